"""Incremental syncs through the Airbyte entrypoint against a live sandbox.

What a user relies on: a second sync re-sends only the lookback window and never moves state back;
a sync resumed from any state it emitted loses nothing; a state from the future reads nothing;
after the sandbox clock moves, the deduplicated union of the syncs equals the sandbox's truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from airbyte_cdk.models import AirbyteStateMessageSerializer, Type  # type: ignore[attr-defined]

from trastpay.cursors import parse_instant
from trastpay.streams import STREAMS, get_stream
from trastpay_sandbox.testing import SandboxServer

from .acceptance import (
    ABNORMAL_STATE,
    ConfigFactory,
    as_state_messages,
    final_states,
    first_customer_phone,
    load_catalog,
    record_key,
    records_of,
    run_read,
)

INCREMENTAL_STREAMS = [stream.name for stream in STREAMS if stream.incremental]


def _cursor_instants(state: Mapping[str, Any]) -> dict[str | None, datetime]:
    if "partitions" in state:
        return {key: parse_instant(entry["cursor"]) for key, entry in state["partitions"].items()}
    return {None: parse_instant(state["cursor"])} if "cursor" in state else {}


def _window_days(stream: str, config: Mapping[str, Any]) -> int:
    """``lookback_days`` plus the stream's own window (settlement lag, or its default re-read days)."""
    definition = get_stream(stream)
    lookback = int(config.get("lookback_days", 0))
    own = int(config.get("settlement_lag_days", 7)) if definition.settles else definition.reread_days
    return lookback + own


def _keys(pairs: Iterable[tuple[str, Mapping[str, Any]]]) -> set[tuple[str, ...]]:
    return {record_key(stream, data) for stream, data in pairs}


def test_given_a_first_sync_when_synced_again_then_only_the_lookback_window_returns_and_state_holds(
    moving_config: ConfigFactory,
) -> None:
    config = moving_config(device_id="incremental-twice")
    catalog = load_catalog()

    first = run_read(config, catalog)
    first_states = final_states(first)
    second = run_read(config, catalog, as_state_messages(first_states))
    second_states = final_states(second)

    assert records_of(first), "the seeded world has records"
    for stream, data in records_of(second):
        definition = get_stream(stream)
        if definition.cursor_field is None:
            continue
        partition = data[definition.partition_field] if definition.partition_field else None
        saved = _cursor_instants(first_states[stream])[partition]
        earliest = saved - timedelta(days=_window_days(stream, config))
        assert parse_instant(data[definition.cursor_field]) >= earliest, (
            f"{stream} re-sent {record_key(stream, data)} from before its lookback window"
        )
    for stream in INCREMENTAL_STREAMS:
        before, after = _cursor_instants(first_states[stream]), _cursor_instants(second_states[stream])
        assert set(before) <= set(after), f"{stream} lost a partition from its state"
        assert all(after[key] >= instant for key, instant in before.items()), f"{stream} state moved back"


def test_given_every_state_a_sync_emitted_when_resumed_from_it_then_nothing_is_lost(
    moving_config: ConfigFactory,
) -> None:
    config = moving_config(device_id="incremental-resume", page_size=50)
    full = run_read(config, load_catalog())
    messages = full.get_message_by_types([Type.RECORD, Type.STATE])
    everything = _keys(records_of(full))
    checked = 0

    for position, message in enumerate(messages):
        if message.type != Type.STATE:
            continue
        assert message.state is not None
        assert message.state.stream is not None
        stream = message.state.stream.stream_descriptor.name
        if stream not in INCREMENTAL_STREAMS:
            continue
        before = {
            record_key(stream, m.record.data)
            for m in messages[:position]
            if m.type == Type.RECORD and m.record is not None and m.record.stream == stream
        }
        state = AirbyteStateMessageSerializer.load(AirbyteStateMessageSerializer.dump(message.state))
        resumed = _keys(records_of(run_read(config, load_catalog([stream]), [state])))
        expected = {key for key in everything if key[0] == stream}
        missing, extra = expected - (before | resumed), (before | resumed) - expected
        assert not missing, f"resuming {stream} from state #{position} lost {sorted(missing)[:5]}"
        assert not extra, f"resuming {stream} from state #{position} invented {sorted(extra)[:5]}"
        checked += 1

    assert checked >= 5, "the sync should have emitted several incremental checkpoints"


def test_given_a_state_in_the_future_when_synced_then_no_records_and_state_does_not_move_back(
    moving_config: ConfigFactory,
) -> None:
    config = moving_config(device_id="incremental-future")
    entries = json.loads(ABNORMAL_STATE.read_text("utf-8"))
    abnormal = [AirbyteStateMessageSerializer.load(entry) for entry in entries]
    future = {
        entry["stream"]["stream_descriptor"]["name"]: entry["stream"]["stream_state"] for entry in entries
    }
    reached = final_states(run_read(config, load_catalog()))
    for stream in INCREMENTAL_STREAMS:
        missing = set(_cursor_instants(reached.get(stream, {}))) - set(
            _cursor_instants(future.get(stream, {}))
        )
        assert not missing, (
            f"abnormal_state.json lacks {stream} partitions {sorted(map(str, missing))}; regenerate it with "
            "`python integration_tests/acceptance.py write-fixtures`"
        )

    output = run_read(config, load_catalog(INCREMENTAL_STREAMS), abnormal)

    assert records_of(output) == []
    after = final_states(output)
    for stream, state in future.items():
        assert _cursor_instants(after[stream]) == _cursor_instants(state), f"{stream} state moved"


def _latest_by_key(
    pairs: Iterable[tuple[str, Mapping[str, Any]]],
) -> dict[tuple[str, ...], Mapping[str, Any]]:
    latest: dict[tuple[str, ...], Mapping[str, Any]] = {}
    for stream, data in pairs:
        latest[record_key(stream, data)] = data
    return latest


def test_given_clock_advanced_when_synced_incrementally_then_deduplicated_union_equals_truth(
    moving_sandbox: SandboxServer, moving_config: ConfigFactory
) -> None:
    config = moving_config(device_id="incremental-truth")
    catalog = load_catalog(["card_transactions"])
    first = run_read(config, catalog)

    moving_sandbox.advance("P3D")
    second = run_read(config, catalog, as_state_messages(final_states(first)))

    synced = _latest_by_key([*records_of(first), *records_of(second)])
    start = parse_instant(config["start_date"])
    truth = {
        record_key("card_transactions", row): row
        for row in moving_sandbox.truth("card_transactions", first_customer_phone(moving_sandbox))
        if parse_instant(row["occurred_at"]) >= start
    }
    assert set(synced) == set(truth)
    changed = [key for key, row in truth.items() if synced[key]["status"] != row["status"]]
    assert not changed, f"latest status differs for {changed[:5]}"
