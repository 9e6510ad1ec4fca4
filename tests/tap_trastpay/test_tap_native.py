"""The SDK-free sync writes the same Singer messages as the singer-sdk path, for the same inputs.

Each scenario runs ``tap-trastpay`` twice as a real process against the real sandbox: once with
``TRASTPAY_FAST_PATH=0`` (singer-sdk) and once as users run it (the SDK-free path, which says so
on stderr), each from its own login, and compares stdout message by message. Normalised: only
``time_extracted``, the table version (a timestamp of the run; checked to be one value per run)
and the run-specific fields of ``sync_audit`` records (its id, start and the read window's end,
which is "now"). Failures also compare the exit code and the tap's ERROR lines.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from trastpay.streams import EMITTED_STREAMS
from trastpay_sandbox.testing import SandboxServer

from .tap_harness import TAP_EXECUTABLE, login_config, write_catalog

FAST_MARK = "(SDK-free sync)"
RUN_FIELDS = ("sync_id", "sync_started_at", "window_end")
_devices = itertools.count(1)


@pytest.fixture(scope="module")
def native_sandbox() -> Iterator[SandboxServer]:
    """A sandbox of its own: the scenarios move its clock and switch its faults."""
    with SandboxServer(customers=5, history_days=200, seed=42) as server:
        yield server


@pytest.fixture(scope="module")
def rich_phone(native_sandbox: SandboxServer) -> str:
    """The customer with the most cards (several partitions per card stream)."""
    return str(max(native_sandbox.customers(), key=lambda c: len(c["cards"]))["phone"])


class Run:
    """One tap process: exit code, messages, stderr."""

    def __init__(self, done: subprocess.CompletedProcess[str], store: Path, device: str) -> None:
        self.device = device
        self.code = done.returncode
        self.stderr = done.stderr
        self.messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        self.store = store

    @property
    def fast(self) -> bool:
        return FAST_MARK in self.stderr

    def error_lines(self) -> list[str]:
        """``logger | message`` of the tap's ERROR lines (tracebacks and core audit lines left out).

        Each run logs in on its own device, which a login error names: that name is normalised.
        """
        found = []
        for line in self.stderr.splitlines():
            parts = [part.strip() for part in line.split(" | ", 3)]
            if len(parts) == 4 and parts[1] == "ERROR" and parts[2].startswith("tap-trastpay"):
                found.append(f"{parts[2]} | {parts[3]}".replace(self.device, "<device>"))
        return found

    def normalised(self) -> list[dict[str, Any]]:
        versions = {m["version"] for m in self.messages if "version" in m}
        assert len(versions) <= 1, f"one table version per run, got {versions}"
        out = []
        for message in self.messages:
            message = {k: v for k, v in message.items() if k != "time_extracted"}
            if "version" in message:
                message["version"] = "<run>"
            if message["type"] == "RECORD" and message["stream"] == "sync_audit":
                message["record"] = {k: v for k, v in message["record"].items() if k not in RUN_FIELDS}
            out.append(message)
        return out


def run_tap_once(
    sandbox: SandboxServer,
    phone: str,
    where: Path,
    *,
    sdk: bool,
    settings: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
    streams: set[str] | None = None,
    config_edit: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Run:
    """Log in on a fresh device and run ``tap-trastpay --config [--state] [--catalog]``."""
    where.mkdir(parents=True)
    store = where / "tokens.json"
    device = f"native-{next(_devices)}"
    config = login_config(sandbox, phone, where, device_id=device)
    config = {**config, "token_store_path": str(store), **(settings or {})}
    if config_edit is not None:
        config = config_edit(config)
    config_path = where / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    command = [str(TAP_EXECUTABLE), "--config", str(config_path)]
    if state is not None:
        (where / "state.json").write_text(json.dumps(state), encoding="utf-8")
        command += ["--state", str(where / "state.json")]
    if streams is not None:
        command += ["--catalog", str(write_catalog(config, where / "catalog.json", streams))]
    env = {**os.environ, "TRASTPAY_FAST_PATH": "0" if sdk else "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)
    return Run(done, store, device)


def both_paths(tmp_path: Path, run: Callable[[Path, bool], Run]) -> tuple[Run, Run]:
    """The SDK path's run and the SDK-free path's run; asserts each took the path it was meant to."""
    sdk = run(tmp_path / "sdk", True)
    fast = run(tmp_path / "fast", False)
    assert not sdk.fast, "TRASTPAY_FAST_PATH=0 must run singer-sdk"
    assert fast.fast, f"the plain invocation did not take the SDK-free path:\n{fast.stderr[-2000:]}"
    return sdk, fast


def assert_same(sdk: Run, fast: Run) -> None:
    assert fast.code == sdk.code, fast.stderr[-3000:]
    expected, found = sdk.normalised(), fast.normalised()
    for index, (want, got) in enumerate(zip(expected, found, strict=False)):
        assert got == want, f"message {index} differs"
    assert len(found) == len(expected)
    assert fast.error_lines() == sdk.error_lines()


def full_state(sandbox: SandboxServer, phone: str, where: Path) -> dict[str, Any]:
    """The final state of a full sync (singer-sdk path)."""
    done = run_tap_once(sandbox, phone, where, sdk=True)
    assert done.code == 0, done.stderr[-3000:]
    states = [m["value"] for m in done.messages if m["type"] == "STATE"]
    return dict(states[-1])


@pytest.fixture(scope="module")
def loan_phone(native_sandbox: SandboxServer, rich_phone: str) -> str:
    """A customer with microloans (the customer with the most cards has none in this world)."""
    for customer in native_sandbox.customers():
        if customer["phone"] != rich_phone and native_sandbox.truth("microloan_schedules", customer["phone"]):
            return str(customer["phone"])
    raise AssertionError("the sandbox world has no customer with microloans")


def test_given_customers_with_data_in_every_stream_when_fully_synced_then_both_paths_write_the_same(
    native_sandbox: SandboxServer, rich_phone: str, loan_phone: str, tmp_path: Path
) -> None:
    settings = {"emit_activate_version_messages": True}
    streams_with_records: set[str] = set()
    for phone in (rich_phone, loan_phone):

        def run(where: Path, sdk: bool, phone: str = phone) -> Run:
            return run_tap_once(native_sandbox, phone, where, sdk=sdk, settings=settings)

        sdk, fast = both_paths(tmp_path / phone, run)
        assert sdk.code == 0, sdk.stderr[-3000:]
        assert any(m["type"] == "ACTIVATE_VERSION" for m in sdk.messages)
        assert_same(sdk, fast)
        streams_with_records |= {m["stream"] for m in sdk.messages if m["type"] == "RECORD"}
    assert streams_with_records == {stream.name for stream in EMITTED_STREAMS}


def test_given_a_saved_state_when_syncing_incrementally_then_both_paths_write_the_same(
    native_sandbox: SandboxServer, rich_phone: str, tmp_path: Path
) -> None:
    state = full_state(native_sandbox, rich_phone, tmp_path / "first")
    sdk, fast = both_paths(
        tmp_path,
        lambda where, sdk: run_tap_once(
            native_sandbox, rich_phone, where, sdk=sdk, state=state, settings={"lookback_days": 3}
        ),
    )
    assert sdk.messages[0]["type"] == "STATE"  # the incoming bookmarks, before any stream
    assert_same(sdk, fast)


def test_given_the_clock_moved_on_when_syncing_incrementally_then_both_paths_write_the_same(
    native_sandbox: SandboxServer, rich_phone: str, tmp_path: Path
) -> None:
    state = full_state(native_sandbox, rich_phone, tmp_path / "first")
    native_sandbox.advance("P2D")
    sdk, fast = both_paths(
        tmp_path,
        lambda where, sdk: run_tap_once(native_sandbox, rich_phone, where, sdk=sdk, state=state),
    )
    assert sum(m["type"] == "RECORD" and m["stream"] != "sync_audit" for m in sdk.messages) > 0
    assert_same(sdk, fast)


def test_given_tokens_expiring_mid_sync_when_syncing_then_both_paths_rotate_save_and_write_the_same(
    native_sandbox: SandboxServer, rich_phone: str, tmp_path: Path
) -> None:
    def run(where: Path, sdk: bool) -> Run:
        native_sandbox.set_faults({"expire_token_after_pages": 3})
        try:
            return run_tap_once(native_sandbox, rich_phone, where, sdk=sdk, settings={"page_size": 25})
        finally:
            native_sandbox.clear_faults()

    sdk, fast = both_paths(tmp_path, run)
    for done in (sdk, fast):
        saved = json.loads(done.store.read_text(encoding="utf-8"))
        config = json.loads((done.store.parent / "config.json").read_text(encoding="utf-8"))
        assert config["refresh_token"] not in json.dumps(saved), "the rotated token was not saved"
        assert config["refresh_token"] not in done.stderr
    assert_same(sdk, fast)


def test_given_a_refused_login_when_syncing_then_both_paths_fail_alike(
    native_sandbox: SandboxServer, rich_phone: str, tmp_path: Path
) -> None:
    def refused(config: dict[str, Any]) -> dict[str, Any]:
        return {**config, "refresh_token": "rt_" + "x" * 40}

    sdk, fast = both_paths(
        tmp_path,
        lambda where, sdk: run_tap_once(native_sandbox, rich_phone, where, sdk=sdk, config_edit=refused),
    )
    assert sdk.code == 1
    assert sdk.error_lines()
    assert "x" * 40 not in fast.stderr
    assert_same(sdk, fast)


def test_given_a_page_failing_mid_sync_when_syncing_then_both_paths_stop_at_the_same_message(
    native_sandbox: SandboxServer, rich_phone: str, tmp_path: Path
) -> None:
    settings = {"page_size": 10, "max_retries": 0, "max_concurrency": 1}

    def run(where: Path, sdk: bool) -> Run:
        native_sandbox.set_faults({"malformed_page": {"every_n": 12}})
        try:
            return run_tap_once(native_sandbox, rich_phone, where, sdk=sdk, settings=settings)
        finally:
            native_sandbox.clear_faults()

    sdk, fast = both_paths(tmp_path, run)
    assert sdk.code == 1
    assert any(m["type"] == "RECORD" for m in sdk.messages)
    assert_same(sdk, fast)


def test_given_a_backfill_when_syncing_then_both_paths_repeat_the_incoming_state(
    native_sandbox: SandboxServer, rich_phone: str, tmp_path: Path
) -> None:
    state = full_state(native_sandbox, rich_phone, tmp_path / "first")
    backfill = {
        "start_date": "2026-09-01",
        "end_date": "2026-10-01",
        "streams": ["card_transactions", "events"],
    }
    sdk, fast = both_paths(
        tmp_path,
        lambda where, sdk: run_tap_once(
            native_sandbox, rich_phone, where, sdk=sdk, state=state, settings={"backfill": backfill}
        ),
    )
    assert {json.dumps(m["value"]) for m in sdk.messages if m["type"] == "STATE"} == {json.dumps(state)}
    assert_same(sdk, fast)


def test_given_an_invalid_config_when_starting_then_both_paths_name_the_setting_alike(
    native_sandbox: SandboxServer, rich_phone: str, tmp_path: Path
) -> None:
    sdk, fast = both_paths(
        tmp_path,
        lambda where, sdk: run_tap_once(
            native_sandbox, rich_phone, where, sdk=sdk, settings={"start_date": "2999-01-01"}
        ),
    )
    assert sdk.code == 1
    assert any("config_error" in line and "start_date" in line for line in sdk.error_lines())
    assert_same(sdk, fast)


def test_given_a_malformed_bookmark_when_starting_then_both_paths_reject_the_state_alike(
    native_sandbox: SandboxServer, rich_phone: str, tmp_path: Path
) -> None:
    state = {
        "bookmarks": {"events": {"replication_key": "occurred_at", "replication_key_value": "yesterday"}}
    }
    sdk, fast = both_paths(
        tmp_path, lambda where, sdk: run_tap_once(native_sandbox, rich_phone, where, sdk=sdk, state=state)
    )
    assert sdk.code == 1
    assert any("State of stream 'events'" in line for line in sdk.error_lines())
    assert_same(sdk, fast)


def test_given_a_catalog_selecting_some_streams_when_syncing_then_both_paths_write_the_same(
    native_sandbox: SandboxServer, rich_phone: str, tmp_path: Path
) -> None:
    chosen = {"cards", "card_transactions", "events", "sync_audit"}
    sdk, fast = both_paths(
        tmp_path,
        lambda where, sdk: run_tap_once(native_sandbox, rich_phone, where, sdk=sdk, streams=chosen),
    )
    assert {m["stream"] for m in sdk.messages if m["type"] == "SCHEMA"} == chosen
    assert_same(sdk, fast)


def test_given_a_fast_sync_when_it_ends_then_singer_sdk_was_never_imported(
    native_sandbox: SandboxServer, rich_phone: str, tmp_path: Path
) -> None:
    config = login_config(native_sandbox, rich_phone, tmp_path, device_id=f"native-{next(_devices)}")
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    probe = (
        "import sys\n"
        "from tap_trastpay.console import main\n"
        "try:\n"
        "    main(['--config', sys.argv[1]])\n"
        "finally:\n"
        "    loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('singer_sdk', 'click'))\n"
        "    print('LOADED', loaded, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(config_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert FAST_MARK in done.stderr
    assert "LOADED []" in done.stderr, done.stderr[-500:]
    assert any('"type":"RECORD"' in line for line in done.stdout.splitlines())


@pytest.fixture(scope="module")
def busy_sandbox() -> Iterator[SandboxServer]:
    """One customer with thousands of card operations: STATE every 1,000 records lands mid-page."""
    with SandboxServer(
        customers=1, transactions=12_000, history_days=60, cards_per_customer=2, seed=7
    ) as server:
        yield server


def test_given_thousands_of_records_when_syncing_and_re_reading_then_both_paths_checkpoint_alike(
    busy_sandbox: SandboxServer, tmp_path: Path
) -> None:
    phone = str(busy_sandbox.customers()[0]["phone"])
    settings = {"page_size": 300}
    sdk, fast = both_paths(
        tmp_path / "full",
        lambda where, sdk: run_tap_once(busy_sandbox, phone, where, sdk=sdk, settings=settings),
    )
    assert sum(m["type"] == "STATE" for m in sdk.messages) > 20
    assert_same(sdk, fast)
    state = [m["value"] for m in sdk.messages if m["type"] == "STATE"][-1]
    rereading = {**settings, "lookback_days": 45}  # a window of thousands of records that moves no bookmark
    sdk, fast = both_paths(
        tmp_path / "again",
        lambda where, sdk: run_tap_once(busy_sandbox, phone, where, sdk=sdk, settings=rereading, state=state),
    )
    states = [json.dumps(m["value"]) for m in sdk.messages if m["type"] == "STATE"]
    assert len(states) > len(set(states)), "the core's forced checkpoints repeat an unchanged state"
    assert_same(sdk, fast)


def test_given_sigterm_mid_sync_when_on_the_sdk_free_path_then_the_state_so_far_is_written_and_exit_is_0(
    native_sandbox: SandboxServer, rich_phone: str, tmp_path: Path
) -> None:
    """As singer-sdk's taps do on SIGTERM (Meltano cancelling a run): a last STATE, exit code 0."""
    config = login_config(native_sandbox, rich_phone, tmp_path, device_id=f"native-{next(_devices)}")
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({**config, "page_size": 10, "max_concurrency": 1}), encoding="utf-8")
    native_sandbox.set_faults({"latency_ms": 200})
    try:
        process = subprocess.Popen(
            [str(TAP_EXECUTABLE), "--config", str(config_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "TRASTPAY_FAST_PATH": "1"},
        )
        assert process.stdout is not None
        lines = []
        for line in process.stdout:  # records are flushed with the STATE after their page
            lines.append(line)
            if b'"type":"STATE"' in line:
                break
        process.send_signal(signal.SIGTERM)
        rest, stderr = process.communicate(timeout=60)
    finally:
        native_sandbox.clear_faults()
    messages = [json.loads(line) for line in [*lines, *rest.splitlines()] if line.strip()]
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert FAST_MARK.encode() in stderr
    assert b"Gracefully shutting down" in stderr
    assert messages[-1]["type"] == "STATE"
    assert "sync_audit" not in {m.get("stream") for m in messages}, "the run was not cut short"
