"""``read`` answered without airbyte-cdk writes what the CDK path writes, for the same inputs.

Each case runs ``source-trastpay read`` twice as real processes against the real sandbox: the
direct path, then the CDK path (``TRASTPAY_FAST_PATH=0``), each with its own login (refresh
tokens are single use), and compares the messages (see :mod:`.native_read_harness` for the few
values that legitimately differ). Every message of the direct path is validated against the
Airbyte protocol's own models.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trastpay.streams import EMITTED_STREAMS
from trastpay_sandbox.login_config import login_config
from trastpay_sandbox.testing import SandboxServer

from .native_read_harness import (
    MEMORY_MONITOR,
    assert_protocol_messages,
    comparable,
    first_difference,
    private_values,
    run_source,
)

START_DATE = "2025-09-01"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """The demo's world: its first customer has records in every stream (checked below)."""
    with SandboxServer(customers=3, history_days=400, seed=42) as server:
        yield server


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every stream, incremental where it can be (as discovered)."""
    from source_trastpay.answers import catalog_document

    streams = [
        {
            "stream": stream,
            "sync_mode": "incremental" if "incremental" in stream["supported_sync_modes"] else "full_refresh",
            "destination_sync_mode": "append",
        }
        for stream in catalog_document()["streams"]
    ]
    path = tmp_path_factory.mktemp("catalog") / "catalog.json"
    path.write_text(json.dumps({"streams": streams}), encoding="utf-8")
    return path


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def both_paths(
    sandbox: SandboxServer,
    tmp_path: Path,
    case: str,
    catalog: Path,
    state: Any = None,
    faults: dict[str, Any] | None = None,
    **fields: Any,
) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the direct and the CDK path on the same inputs (own logins); assert they wrote the same.

    Answers the exit code, the direct path's messages and the CDK path's.
    """
    runs = []
    for path_name, fast in (("direct", True), ("cdk", False)):
        config = login_config(
            sandbox, device_id=f"nr-{case}-{path_name}-dev", start_date=START_DATE, **fields
        )
        argv = ["read", "--config", str(_write(tmp_path / f"{path_name}-config.json", config))]
        argv += ["--catalog", str(catalog)]
        if state is not None:
            argv += ["--state", str(_write(tmp_path / f"{path_name}-state.json", state))]
        if faults is not None:
            sandbox.set_faults(faults)  # counters restart: both paths meet the same fault
        try:
            code, messages = run_source(argv, fast=fast)
        finally:
            if faults is not None:
                sandbox.clear_faults()
        runs.append((code, messages, private_values(config)))
    (fast_code, fast_messages, fast_private), (cdk_code, cdk_messages, cdk_private) = runs
    assert fast_code == cdk_code
    direct_forms, cdk_forms = comparable(fast_messages, fast_private), comparable(cdk_messages, cdk_private)
    assert direct_forms == cdk_forms, first_difference(direct_forms, cdk_forms)
    assert_protocol_messages(fast_messages)
    # the switch works: only the CDK path has the CDK's memory monitor
    assert not any(
        m["type"] == "LOG" and m["log"]["message"].startswith(MEMORY_MONITOR) for m in fast_messages
    )
    assert any(m["type"] == "LOG" and m["log"]["message"].startswith(MEMORY_MONITOR) for m in cdk_messages)
    return fast_code, fast_messages, cdk_messages


def _types(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [message for message in messages if message["type"] == kind]


def _final_states(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last STATE of each stream, as the platform would hand it back (without sourceStats)."""
    last: dict[str, dict[str, Any]] = {}
    for message in _types(messages, "STATE"):
        state = message["state"]
        last[state["stream"]["stream_descriptor"]["name"]] = {"type": "STREAM", "stream": state["stream"]}
    return list(last.values())


def _errors(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["trace"]["error"] for m in _types(messages, "TRACE") if m["trace"]["type"] == "ERROR"]


def test_given_every_stream_with_data_when_read_fully_then_same_messages_as_the_cdk_path(
    sandbox: SandboxServer, catalog: Path, tmp_path: Path
) -> None:
    phone = str(sandbox.customers()[0]["phone"])
    empty = [s.name for s in EMITTED_STREAMS if s.name != "sync_audit" and not sandbox.truth(s.name, phone)]
    assert empty == [], "the customer must have data in every stream"

    code, messages, _ = both_paths(sandbox, tmp_path, "full", catalog)

    assert code == 0
    read = {m["record"]["stream"] for m in _types(messages, "RECORD")}
    assert read == {s.name for s in EMITTED_STREAMS}
    assert _types(messages, "RECORD")[-1]["record"]["stream"] == "sync_audit"
    assert len(_types(messages, "CONTROL")) == 1  # the login's rotation, before any record
    assert messages.index(_types(messages, "CONTROL")[0]) < messages.index(_types(messages, "RECORD")[0])


def test_given_saved_state_when_read_incrementally_then_same_messages_as_the_cdk_path(
    sandbox: SandboxServer, catalog: Path, tmp_path: Path
) -> None:
    (tmp_path / "first").mkdir()
    _, first, _ = both_paths(sandbox, tmp_path / "first", "inc1", catalog)
    state = _final_states(first)

    code, messages, _ = both_paths(sandbox, tmp_path, "inc2", catalog, state=state)

    assert code == 0
    assert len(_types(messages, "STATE")) >= len(state)


def test_given_the_clock_advanced_when_read_from_state_then_same_new_records_as_the_cdk_path(
    sandbox: SandboxServer, catalog: Path, tmp_path: Path
) -> None:
    (tmp_path / "first").mkdir()
    _, first, _ = both_paths(sandbox, tmp_path / "first", "adv1", catalog)
    sandbox.advance("P2D")

    code, messages, _ = both_paths(sandbox, tmp_path, "adv2", catalog, state=_final_states(first))

    assert code == 0
    assert _final_states(messages) != _final_states(first)  # the new days moved some cursor


def test_given_the_access_token_expiring_mid_read_when_read_then_same_rotations_as_the_cdk_path(
    sandbox: SandboxServer, catalog: Path, tmp_path: Path
) -> None:
    code, messages, _ = both_paths(
        sandbox, tmp_path, "rot", catalog, faults={"expire_token_after_pages": 3}, max_concurrency=1
    )

    assert code == 0
    assert len(_types(messages, "CONTROL")) >= 2  # the login's, then at least one mid-read


def test_given_a_refused_refresh_token_when_read_then_same_config_error_as_the_cdk_path(
    sandbox: SandboxServer, catalog: Path, tmp_path: Path
) -> None:
    code, messages, _ = both_paths(sandbox, tmp_path, "refused", catalog, refresh_token="x" * 40)

    assert code == 1
    assert [m["type"] for m in messages if m["type"] != "LOG"] == ["TRACE"]
    assert _errors(messages)[0]["failure_type"] == "config_error"
    assert "x" * 40 not in json.dumps(messages)


def test_given_access_revoked_mid_read_when_read_then_same_stop_on_refused_credentials(
    sandbox: SandboxServer, catalog: Path, tmp_path: Path
) -> None:
    faults = {"revoke_access_after_pages": {"after_pages": 4, "reject_refreshed": True}}

    code, messages, _ = both_paths(sandbox, tmp_path, "revoked", catalog, faults=faults, max_concurrency=1)

    assert code == 1
    errors = _errors(messages)
    assert errors[-1]["message"].startswith(
        "During the sync, the following streams did not sync successfully"
    )
    statuses = [
        m["trace"]["stream_status"]["status"]
        for m in _types(messages, "TRACE")
        if "stream_status" in m["trace"]
    ]
    assert statuses[-1] == "INCOMPLETE"
    assert "sync_audit" not in {m["record"]["stream"] for m in _types(messages, "RECORD")}


def test_given_a_broken_page_mid_read_when_read_then_same_stream_failure_and_final_error(
    sandbox: SandboxServer, catalog: Path, tmp_path: Path
) -> None:
    faults = {"corrupt_page": {"kind": "html", "next_n": 1, "stream": "transfers"}}

    code, messages, _ = both_paths(
        sandbox, tmp_path, "broken", catalog, faults=faults, max_retries=0, max_concurrency=1
    )

    assert code == 1
    assert _errors(messages)[-1]["failure_type"] == "config_error"
    assert [e.get("stream_descriptor") for e in _errors(messages)] == [{"name": "transfers"}, None]
    assert _types(messages, "RECORD")[-1]["record"]["stream"] == "sync_audit"  # the others went on


def test_given_a_backfill_when_read_then_same_passed_through_state_as_the_cdk_path(
    sandbox: SandboxServer, catalog: Path, tmp_path: Path
) -> None:
    state = [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "transfers"},
                "stream_state": {"cursor": "2026-10-20T00:00:00+05:00"},
            },
        }
    ]
    backfill = {
        "start_date": "2026-09-10",
        "end_date": "2026-10-01",
        "streams": ["transfers", "card_transactions"],
    }

    code, messages, _ = both_paths(sandbox, tmp_path, "backfill", catalog, state=state, backfill=backfill)

    assert code == 0
    transfer_states = [
        m["state"]["stream"]["stream_state"]
        for m in _types(messages, "STATE")
        if m["state"]["stream"]["stream_descriptor"]["name"] == "transfers"
    ]
    assert transfer_states
    assert all(s == {"cursor": "2026-10-20T00:00:00+05:00"} for s in transfer_states)


def test_given_an_invalid_setting_when_read_then_same_config_error_as_the_cdk_path(
    sandbox: SandboxServer, catalog: Path, tmp_path: Path
) -> None:
    code, messages, _ = both_paths(sandbox, tmp_path, "invalid", catalog, page_size=5000)

    assert code == 1
    assert _errors(messages)[0]["message"].startswith("Invalid config field 'page_size'")


def test_given_a_malformed_state_and_an_unknown_stream_when_read_then_same_failure_as_the_cdk_path(
    sandbox: SandboxServer, catalog: Path, tmp_path: Path
) -> None:
    document = json.loads(catalog.read_text(encoding="utf-8"))
    unknown = {
        **document["streams"][0],
        "stream": {**document["streams"][0]["stream"], "name": "no_such_stream"},
    }
    with_unknown = _write(tmp_path / "catalog.json", {"streams": [unknown, *document["streams"]]})
    state = [
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "transfers"}, "stream_state": {"cursor": "yesterday"}},
        }
    ]

    code, messages, _ = both_paths(sandbox, tmp_path, "badstate", with_unknown, state=state)

    assert code == 1
    assert any(e.get("stream_descriptor") == {"name": "transfers"} for e in _errors(messages))


@pytest.mark.parametrize(
    "state_text",
    ["", "{}", "[]", '{"transfers": {"cursor": "2026-10-01"}}'],
    ids=["empty-file", "empty-object", "empty-list", "legacy-dict"],
)
def test_given_an_empty_or_legacy_state_file_when_read_then_same_answer_as_the_cdk_path(
    sandbox: SandboxServer, tmp_path: Path, state_text: str
) -> None:
    from source_trastpay.answers import catalog_document

    cards = [s for s in catalog_document()["streams"] if s["name"] == "cards"]
    small = _write(
        tmp_path / "cards.json",
        {
            "streams": [
                {"stream": cards[0], "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
            ]
        },
    )
    results = []
    for path_name, fast in (("direct", True), ("cdk", False)):
        config = login_config(sandbox, device_id=f"nr-st-{path_name}-dev", start_date=START_DATE)
        state = tmp_path / "state.json"  # one file: the CDK quotes its path when it cannot read it
        state.write_text(state_text, encoding="utf-8")
        argv = [
            "read",
            f"--state={state}",
            "--catalog",
            str(small),
            f"--config={_write(tmp_path / f'{path_name}.json', config)}",
        ]
        code, messages = run_source(argv, fast=fast)
        results.append((code, comparable(messages, private_values(config))))

    assert results[0] == results[1]


def test_given_a_fast_read_then_airbyte_cdk_pydantic_and_the_protocol_models_are_never_imported(
    sandbox: SandboxServer, catalog: Path, tmp_path: Path
) -> None:
    config = login_config(sandbox, device_id="nr-imports-dev", start_date=START_DATE)
    argv = ["read", "--config", str(_write(tmp_path / "config.json", config)), "--catalog", str(catalog)]
    probe = (
        "import sys\n"
        "from source_trastpay.console import answer\n"
        f"code = answer({argv!r})\n"
        "loaded = sorted(m for m in ('airbyte_cdk', 'pydantic', 'airbyte_protocol') if m in sys.modules)\n"
        "print(repr((code, loaded)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=600, check=True)

    assert done.stderr.decode().strip().splitlines()[-1] == "(0, [])"
    assert b'"type":"RECORD"' in done.stdout
