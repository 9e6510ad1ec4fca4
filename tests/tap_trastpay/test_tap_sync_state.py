"""What a Singer user relies on from the tap's state: exact bookmarks, lossless resume, no rewind."""

from __future__ import annotations

import contextlib
import copy
import io
from typing import Any

import pytest

from tap_trastpay.streams import TrastpayStream
from tap_trastpay.tap import TapTrastpay
from trastpay import session as session_module
from trastpay.errors import StateError
from trastpay.streams import STREAMS, STREAMS_BY_NAME, SYNC_AUDIT
from trastpay_sandbox.testing import SandboxServer
from trastpay_sandbox.verify import compare_stream

from .tap_harness import (
    SyncResult,
    incremental_streams,
    key_of,
    keys_by_stream,
    max_cursor,
    parse_messages,
    run_tap,
)

FUTURE = "2030-01-01T00:00:00+05:00"
SDK_MARKERS = ("progress_markers", "starting_replication_value", "replication_key_signpost")


def _bookmark_entries(stream_state: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """(partition key or None, entry) for every bookmark of a stream."""
    if "partitions" in stream_state:
        return [(next(iter(p["context"].values())), p) for p in stream_state["partitions"]]
    return [(None, stream_state)]


def test_given_full_sync_when_finished_then_every_partition_bookmark_is_the_max_cursor_emitted(
    tap_config: dict[str, Any],
) -> None:
    result = run_tap(tap_config)
    final = result.final_state["bookmarks"]
    records = result.records
    checked = 0
    for stream in incremental_streams():
        assert stream.cursor_field is not None
        stream_state = final.get(stream.name, {})
        for marker in SDK_MARKERS:
            assert marker not in stream_state, f"{stream.name}: {marker} left in the final state"
        emitted = records.get(stream.name, [])
        if stream.partitioned:
            field = stream.partition_field
            assert field is not None
            by_partition: dict[str, list[dict[str, Any]]] = {}
            for record in emitted:
                by_partition.setdefault(record[field], []).append(record)
            saved = {key: entry for key, entry in _bookmark_entries(stream_state)}
            for key, partition_records in by_partition.items():
                assert saved[key]["replication_key_value"] == max_cursor(
                    partition_records, stream.cursor_field
                )
                for marker in SDK_MARKERS:
                    assert marker not in saved[key]
                checked += 1
        elif emitted:
            assert stream_state["replication_key"] == stream.cursor_field
            assert stream_state["replication_key_value"] == max_cursor(emitted, stream.cursor_field)
            checked += 1
    assert checked >= 3, "the sandbox should give several incremental streams with records"


def test_given_full_sync_then_every_stream_equals_the_sandbox_truth_with_integer_money(
    tap_config: dict[str, Any], tap_sandbox: SandboxServer, tap_phone: str
) -> None:
    result = run_tap(tap_config)
    assert result.refreshes == 1, "one session (one login, one request budget) serves every stream"
    records = result.records
    for stream in STREAMS:
        emitted = records.get(stream.name, [])
        truth = tap_sandbox.truth(stream.name, tap_phone)
        comparison = compare_stream(
            stream.name, truth, emitted, primary_key=stream.primary_key, cursor_field=stream.cursor_field
        )
        assert comparison.ok, comparison.describe()
        assert len(emitted) == len({key_of(stream, r) for r in emitted}), f"{stream.name}: duplicates"
        for record in emitted:
            for name, value in record.items():
                if name.endswith("_minor"):
                    assert value is None or type(value) is int, (
                        f"{stream.name}.{name} is {type(value).__name__}"
                    )


def _records_before(result: SyncResult, state_index: int) -> dict[str, set[tuple[Any, ...]]]:
    seen: dict[str, set[tuple[Any, ...]]] = {}
    states = -1
    for message in result.messages:
        if message["type"] == "STATE":
            states += 1
            if states == state_index:
                break
        elif message["type"] == "RECORD" and message["stream"] in STREAMS_BY_NAME:  # not sync_audit
            stream = STREAMS_BY_NAME[message["stream"]]
            seen.setdefault(stream.name, set()).add(key_of(stream, message["record"]))
    return seen


def test_given_each_emitted_state_when_resuming_then_nothing_is_lost_after_dedup(
    tap_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TrastpayStream, "STATE_MSG_FREQUENCY", 25)
    config = {**tap_config, "page_size": 20}
    first = run_tap(config)
    expected = keys_by_stream(first)
    distinct: list[tuple[int, dict[str, Any]]] = []
    for index, state in enumerate(first.states):
        if not any(state == seen for _, seen in distinct):
            distinct.append((index, state))
    assert len(distinct) >= 5, "small pages should give several intermediate states"
    step = max(1, len(distinct) // 8)
    for index, state in distinct[::step]:
        before = _records_before(first, index)
        resumed = keys_by_stream(run_tap(config, state=copy.deepcopy(state)))
        for name, keys in expected.items():
            missing = keys - before.get(name, set()) - resumed[name]
            assert not missing, f"resuming from state #{index} lost {len(missing)} {name} records"


def _future_state(final: dict[str, Any]) -> dict[str, Any]:
    state = copy.deepcopy(final)
    for stream in incremental_streams():
        stream_state = state["bookmarks"].setdefault(stream.name, {})
        for _, entry in _bookmark_entries(stream_state):
            entry["replication_key"] = stream.cursor_field
            entry["replication_key_value"] = FUTURE
    return state


def test_given_a_future_state_when_syncing_then_no_incremental_record_and_no_bookmark_moves_back(
    tap_config: dict[str, Any],
) -> None:
    future = _future_state(run_tap(tap_config).final_state)
    result = run_tap(tap_config, state=copy.deepcopy(future))
    incremental = {s.name for s in incremental_streams()}
    assert not {name for name, rows in result.records.items() if rows and name in incremental}
    final = result.final_state["bookmarks"]
    for stream in incremental_streams():
        for key, entry in _bookmark_entries(final.get(stream.name, {})):
            if "replication_key_value" in entry:
                assert entry["replication_key_value"] == FUTURE, f"{stream.name}/{key} moved back"


@pytest.mark.parametrize(
    ("bookmark", "named"),
    [
        ({"replication_key": "updated_at", "replication_key_value": "yesterday"}, "transfers"),
        ({"replication_key": "updated_at", "replication_key_value": 12}, "transfers"),
    ],
)
def test_given_a_malformed_bookmark_when_starting_then_the_error_names_the_stream(
    bookmark: dict[str, Any], named: str
) -> None:
    config = {
        "base_url": "http://127.0.0.1:9/api/v1/trastpay",
        "client_id": "c",
        "device_id": "d",
        "refresh_token": "r",
        "start_date": "2026-01-01",
    }
    with pytest.raises(StateError, match=named):
        TapTrastpay(config=config, state={"bookmarks": {named: bookmark}}, parse_env_config=False)


def test_given_partition_entries_without_context_when_starting_then_the_error_names_the_stream() -> None:
    config = {
        "base_url": "http://127.0.0.1:9/api/v1/trastpay",
        "client_id": "c",
        "device_id": "d",
        "refresh_token": "r",
        "start_date": "2026-01-01",
    }
    state = {"bookmarks": {"card_transactions": {"partitions": [{"replication_key_value": FUTURE}]}}}
    with pytest.raises(StateError, match="card_transactions"):
        TapTrastpay(config=config, state=state, parse_env_config=False)


def test_given_a_re_read_window_that_moves_no_bookmark_when_syncing_then_state_still_comes_regularly(
    tap_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {**tap_config, "page_size": 10, "settlement_lag_days": 30}
    first = run_tap(config)
    monkeypatch.setattr(session_module, "STATE_EVERY_RECORDS", 15)

    again = run_tap(config, state=copy.deepcopy(first.final_state))  # clock unchanged: only re-reads

    records_between: list[int] = [0]  # records of one stream since its last STATE
    stream = None
    for message in again.messages:
        if message["type"] == "RECORD" and message["stream"] != SYNC_AUDIT.name:  # the report, not a read
            if message["stream"] != stream:  # small streams may end without a STATE of their own
                stream = message["stream"]
                records_between.append(0)
            records_between[-1] += 1
        elif message["type"] == "STATE":
            records_between.append(0)
    assert sum(records_between) > 100  # the 30-day window is re-read
    assert again.final_state == first.final_state  # and no bookmark moved
    assert max(records_between) <= 15 + 10  # a STATE at least every STATE_EVERY_RECORDS + a page


def test_given_a_backfill_without_incoming_state_when_syncing_then_every_state_stays_empty(
    tap_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """singer-sdk path (in process): nothing came in, so a backfill saves nothing, even at the
    forced checkpoints of a long window (they crashed with AttributeError before)."""
    monkeypatch.setattr(session_module, "STATE_EVERY_RECORDS", 15)
    window = {"start_date": "2026-01-01", "end_date": "2027-01-01", "streams": ["card_transactions"]}
    tap = TapTrastpay(config={**tap_config, "page_size": 10, "backfill": window}, parse_env_config=False)
    buffer = io.StringIO()  # no state at all, as `tap-trastpay --config C` without --state
    with contextlib.redirect_stdout(buffer):
        tap.sync_all()
    result = parse_messages(buffer.getvalue())
    assert len(result.records["card_transactions"]) > 30  # forced checkpoints happened
    assert result.states
    assert all(state == {} for state in result.states)
