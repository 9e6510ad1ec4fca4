"""A platform simulator: the real connector processes, driven by the rules Airbyte and Meltano apply.

Not a mock of our code. Every step runs the installed console scripts (``source-trastpay``,
``tap-trastpay``, ``trastpay``) as fresh subprocesses against a real sandbox on 127.0.0.1, and
only the *platform's* side is simulated: which config a process is given, which control messages
are kept, where state and the token store live. ``TRASTPAY_SIM_CODE=<dir>`` puts ``<dir>`` first on
the connectors' ``PYTHONPATH`` (e.g. an export of ``main``'s packages), so the same rules can be
replayed against another version of the code.

Airbyte rules modelled (read in airbyte-platform and the Airbyte docs):

1. Creating a source runs ``spec``, then ``check`` on the form's config, then ``discover``. The
   check of a source being created has no actor id yet, and the connector sidecar persists a
   CONNECTOR_CONFIG control message only when there is one
   (``airbyte-connector-sidecar/.../ConnectorMessageProcessor.kt``,
   ``updateConfigFromControlMessage``: ``if (actorId != null) ... else "Skipping"``). So the
   creation-time check's control message is **discarded**. ``discover`` runs with the new source's
   id, so its control messages are persisted (same function, ``DISCOVER`` branch).
2. For an existing source, the most recent control message of a check or discover is persisted
   when it changed the config (``WorkerUtils.getMostRecentConfigControlMessage`` +
   ``getDidControlMessageChangeConfig`` in the same file).
3. A scheduled sync runs ``check`` and then ``read``; both are started with the config snapshot
   taken when the sync starts, so the read does **not** see what the check persisted (the worst
   case of the platform's job config resolution, and what issue 13 reproduced by hand).
4. During ``read``, every CONNECTOR_CONFIG control message updates the stored source config (the
   orchestrator's config-update listener, ``ConnectorConfigUpdater.updateSource``); the last one
   wins. State is committed as the destination receives STATE messages, so a failed read keeps
   the state emitted before the failure.
5. Time passes between syncs (the schedule): the sandbox clock is advanced by more than the access
   token lifetime for most gaps, and by less for some, so both "valid access token in the config"
   and "expired access token in the config" syncs happen.

Meltano rules modelled (docs.meltano.com, "meltano run" and "State backends"):

1. ``meltano run tap target`` starts a fresh tap process every time (an ephemeral worker keeps
   nothing in memory), with the config from ``meltano.yml``/env and the state of the previous
   successful run (``--state``); the Singer state is the last STATE message the target emitted.
2. Anything the tap must keep between runs lives on a path the worker mounts (``token_store_path``
   on a persistent volume); a run where that volume is missing sees no token store at all.

A forced re-login is a run that ends telling the user to log in again with an OTP (the
simulator then logs in again, like the user would, and counts it). Spent tokens presented are
read from the sandbox's counter (``GET /_sandbox/tokens`` ``spent_presented``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trastpay.cursors import parse_instant
from trastpay.streams import get_stream
from trastpay_sandbox.testing import SandboxServer
from trastpay_sandbox.verify import compare_stream

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
AIRBYTE_CATALOG = ROOT / "integration_tests" / "configured_catalog.json"
START_DATE = "2026-10-01"
RELOGIN_MARKERS = ("log in again", "refresh-token-reused", "Log in again")


def connector_env() -> dict[str, str]:
    """The environment of every connector process (``TRASTPAY_SIM_CODE`` replays another version)."""
    env = dict(os.environ)
    code = os.environ.get("TRASTPAY_SIM_CODE")
    if code:
        env["PYTHONPATH"] = code + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run(
    argv: Sequence[str], *, timeout: float = 300.0, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=connector_env(),
        input=stdin,
        check=False,
    )


def messages(stdout: str) -> list[dict[str, Any]]:
    found = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return found


def control_configs(parsed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        m["control"]["connectorConfig"]["config"]
        for m in parsed
        if m.get("type") == "CONTROL" and m.get("control", {}).get("type") == "CONNECTOR_CONFIG"
    ]


def cli_login(
    sandbox: SandboxServer, phone: str, consumer: str, workdir: Path, device_id: str
) -> dict[str, Any]:
    """``trastpay auth login --for <consumer>`` as a user runs it; answers the config it wrote."""
    output = workdir / f"{consumer}-login.json"
    argv = [
        str(BIN / "trastpay"), "auth", "login", "--for", consumer, "--phone", phone,
        "--device-id", device_id, "--base-url", sandbox.api_url, "--start-date", START_DATE,
        "--otp-from-stdin", "--output", str(output),
    ]  # fmt: skip
    if consumer != "airbyte":
        argv += ["--token-store", str(workdir / "tokens" / "store.json")]
    # The login is the user's step with this checkout's CLI, whatever code the connectors run.
    process = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    assert process.stdin is not None
    first = process.stderr.readline()  # "A one-time password was sent ..." once the OTP exists
    assert "one-time password" in first, first
    process.stdin.write(sandbox.otp(phone) + "\n")
    process.stdin.close()
    code = process.wait(timeout=60)
    rest = process.stderr.read()
    assert code == 0, first + rest
    config: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return config


def token_counters(sandbox: SandboxServer) -> dict[str, int]:
    status, raw = sandbox.request("GET", "/_sandbox/tokens")
    assert status == 200, raw
    counters: dict[str, int] = json.loads(raw)
    return counters


@dataclass
class Outcome:
    """What a simulated schedule did, judged by the pass rule."""

    syncs: int = 0
    failed_syncs: list[str] = field(default_factory=list)
    forced_relogins: int = 0
    spent_presented: int = 0
    refreshes: int = 0
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add_records(self, parsed: list[dict[str, Any]]) -> None:
        for message in parsed:
            if message.get("type") != "RECORD":
                continue
            if "stream" in message:  # Singer: {"type", "stream", "record"}
                self.records.setdefault(message["stream"], []).append(message["record"])
            else:  # Airbyte: {"type", "record": {"stream", "data"}}
                record = message["record"]
                self.records.setdefault(record["stream"], []).append(record["data"])


def _needs_relogin(text: str) -> bool:
    return any(marker in text for marker in RELOGIN_MARKERS)


def data_mismatches(
    sandbox: SandboxServer, phone: str, records: Mapping[str, list[dict[str, Any]]], streams: Sequence[str]
) -> list[str]:
    """What differs between everything emitted (deduplicated, latest wins) and the truth now."""
    problems = []
    start = parse_instant(START_DATE)
    for name in streams:
        definition = get_stream(name)
        result = compare_stream(
            name,
            sandbox.truth(name, phone),
            records.get(name, []),
            primary_key=definition.primary_key,
            cursor_field=definition.cursor_field,
            since=start,
        )
        if result.missing or result.extra or result.mismatched:
            problems.append(f"{name}: {result.describe(limit=3)}")
    return problems


class AirbytePlatform:
    """One Airbyte source and connection, under the rules in the module docstring."""

    def __init__(self, sandbox: SandboxServer, workdir: Path, streams: Sequence[str]) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        self.streams = list(streams)
        self.executable = str(BIN / "source-trastpay")
        self.source_config: dict[str, Any] | None = None  # what the platform stores for the source
        self.state: dict[tuple[str, str | None], Any] = {}
        self.outcome = Outcome()
        workdir.mkdir(parents=True, exist_ok=True)
        self._write_catalog()

    def _write_catalog(self) -> None:
        document = json.loads(AIRBYTE_CATALOG.read_text(encoding="utf-8"))
        entries = [e for e in document["streams"] if e["stream"]["name"] in self.streams]
        for entry in entries:
            supported = entry["stream"]["supported_sync_modes"]
            entry["sync_mode"] = "incremental" if "incremental" in supported else "full_refresh"
            entry["destination_sync_mode"] = (
                "append_dedup" if entry["sync_mode"] == "incremental" else "overwrite"
            )
        (self.workdir / "catalog.json").write_text(json.dumps({"streams": entries}), encoding="utf-8")

    def _config_file(self, config: Mapping[str, Any], name: str) -> Path:
        path = self.workdir / name
        path.touch(mode=0o600)
        path.write_text(json.dumps(config), encoding="utf-8")
        return path

    def _command(
        self, command: str, config: Mapping[str, Any]
    ) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
        argv = [self.executable, command]
        if command != "spec":
            argv += ["--config", str(self._config_file(config, f"{command}-config.json"))]
        if command == "read":
            argv += ["--catalog", str(self.workdir / "catalog.json")]
            if self.state:
                state_path = self.workdir / "state.json"
                state_path.write_text(json.dumps(list(self.state.values())), encoding="utf-8")
                argv += ["--state", str(state_path)]
        done = run(argv)
        return done, messages(done.stdout)

    def create_source(self, form_config: Mapping[str, Any]) -> None:
        """spec, check (control message discarded: no actor id yet), store the form, discover."""
        done, parsed = self._command("spec", {})
        assert any(m.get("type") == "SPEC" for m in parsed), done.stderr[-2000:]
        done, parsed = self._command("check", form_config)
        status = [m["connectionStatus"] for m in parsed if m.get("type") == "CONNECTION_STATUS"]
        assert [s["status"] for s in status] == ["SUCCEEDED"], (status, done.stderr[-2000:])
        # rule 1: no actor id during creation, so control_configs(parsed) is dropped on the floor
        self.source_config = dict(form_config)
        done, parsed = self._command("discover", self.source_config)
        assert any(m.get("type") == "CATALOG" for m in parsed), done.stderr[-2000:]
        self._persist(parsed)  # rule 2: discover runs with the source id

    def _persist(self, parsed: list[dict[str, Any]]) -> None:
        updates = control_configs(parsed)
        if updates and self.source_config is not None and updates[-1] != self.source_config:
            self.source_config = dict(updates[-1])

    def _commit_state(self, parsed: list[dict[str, Any]]) -> None:
        for message in parsed:
            if message.get("type") == "STATE":
                state = message["state"]
                descriptor = state.get("stream", {}).get("stream_descriptor", {})
                self.state[(descriptor.get("name", ""), descriptor.get("namespace"))] = state

    def sync(self, relogin: Any) -> None:
        """One scheduled sync: snapshot, check, read (rules 2-4); a forced re-login is counted."""
        assert self.source_config is not None
        snapshot = dict(self.source_config)
        self.outcome.syncs += 1
        done, parsed = self._command("check", snapshot)
        status = [m["connectionStatus"] for m in parsed if m.get("type") == "CONNECTION_STATUS"]
        self._persist(parsed)
        if not status or status[0]["status"] != "SUCCEEDED":
            text = json.dumps(status) + done.stderr
            self._failed(f"check {self.outcome.syncs}: {text[-400:]}", text, relogin)
            return
        done, parsed = self._command("read", snapshot)
        self._persist(parsed)
        self._commit_state(parsed)
        self.outcome.add_records(parsed)
        traces = [
            m["trace"]["error"]
            for m in parsed
            if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR"
        ]
        if done.returncode != 0 or traces:
            text = json.dumps(traces) + done.stderr[-1000:]
            self._failed(f"read {self.outcome.syncs}: {text[-400:]}", text, relogin)

    def _failed(self, summary: str, text: str, relogin: Any) -> None:
        self.outcome.failed_syncs.append(summary)
        if _needs_relogin(text):
            self.outcome.forced_relogins += 1
            assert self.source_config is not None
            self.source_config = {**self.source_config, **relogin()}


class MeltanoWorker:
    """``meltano run tap-trastpay target`` on ephemeral workers: a fresh tap process per run."""

    def __init__(
        self, sandbox: SandboxServer, workdir: Path, config: Mapping[str, Any], streams: Sequence[str]
    ) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        self.config = dict(config)
        self.streams = list(streams)
        self.state: dict[str, Any] | None = None
        self.outcome = Outcome()
        self.executable = str(BIN / "tap-trastpay")
        self._write_catalog()

    def _write_catalog(self) -> None:
        from tap_trastpay.tap import TapTrastpay

        catalog: dict[str, Any] = TapTrastpay(config=dict(self.config), parse_env_config=False).catalog_dict
        for entry in catalog["streams"]:
            for item in entry["metadata"]:
                if item["breadcrumb"] == []:
                    item["metadata"]["selected"] = entry["tap_stream_id"] in self.streams
        (self.workdir / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")

    def run(self, *, store_mounted: bool = True) -> subprocess.CompletedProcess[str]:
        """One ``meltano run``; without the volume the token store path is an empty directory."""
        config = dict(self.config)
        if not store_mounted:
            config["token_store_path"] = str(self.workdir / f"unmounted-{time.monotonic_ns()}" / "store.json")
        config_path = self.workdir / "meltano-config.json"
        config_path.touch(mode=0o600)
        config_path.write_text(json.dumps(config), encoding="utf-8")
        argv = [
            self.executable,
            "--config",
            str(config_path),
            "--catalog",
            str(self.workdir / "catalog.json"),
        ]
        if self.state is not None:
            state_path = self.workdir / "state.json"
            state_path.write_text(json.dumps(self.state), encoding="utf-8")
            argv += ["--state", str(state_path)]
        self.outcome.syncs += 1
        done = run(argv)
        parsed = messages(done.stdout)
        self.outcome.add_records(parsed)
        states = [m["value"] for m in parsed if m.get("type") == "STATE"]
        if done.returncode == 0 and states:
            self.state = states[-1]
        if done.returncode != 0:
            self.outcome.failed_syncs.append(f"run {self.outcome.syncs}: {done.stderr[-400:]}")
            if _needs_relogin(done.stderr) and store_mounted:
                self.outcome.forced_relogins += 1
        return done


__all__ = [
    "AirbytePlatform",
    "MeltanoWorker",
    "Outcome",
    "cli_login",
    "data_mismatches",
    "token_counters",
]
