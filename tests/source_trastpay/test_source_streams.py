"""Hermetic tests of the stream wrapper: records and state messages from a scripted core session."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from airbyte_cdk.models import (  # type: ignore[attr-defined]
    AirbyteMessage,
    AirbyteStateType,
    ConfiguredAirbyteStream,
    DestinationSyncMode,
    FailureType,
    SyncMode,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_trastpay.streams import FULL_REFRESH_STATE, TrastpayStream
from trastpay.errors import ServerError, TrastpayError
from trastpay.session import Checkpoint, Partition
from trastpay.streams import StreamDef, get_stream

Script = list[dict[str, Any] | Checkpoint]


class ScriptedSession:
    """Plays back records and checkpoints per (stream, partition key) and records each read's cursor."""

    passes_state_through = False  # never a backfill here

    def __init__(
        self,
        scripts: Mapping[tuple[str, str | None], Script],
        *,
        fail_with: TrastpayError | None = None,
    ) -> None:
        self.scripts = scripts
        self.fail_with = fail_with
        self.cursors: dict[tuple[str, str | None], str | None] = {}
        self.announced: dict[str, list[tuple[str | None, str | None]]] = {}

    def read_ahead(self, stream: StreamDef, plan: Any) -> None:
        self.announced[stream.name] = [(partition.key, cursor) for partition, cursor in plan]

    def partitions(self, stream: StreamDef) -> Iterator[Partition]:
        for name, key in self.scripts:
            if name == stream.name:
                yield Partition(key, {stream.partition_field or "id": key} if key else {})

    def read(self, stream: StreamDef, partition: Partition, cursor: str | None) -> Iterator[Any]:
        self.cursors[(stream.name, partition.key)] = cursor
        yield from self.scripts[(stream.name, partition.key)]
        if self.fail_with is not None:
            raise self.fail_with

    def read_pages(self, stream: StreamDef, partition: Partition, cursor: str | None) -> Iterator[Any]:
        """What the real session does: the records between two checkpoints as one list."""
        page: list[Any] = []
        items = self.read(stream, partition, cursor)
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except TrastpayError:
                if page:
                    yield page
                raise
            if isinstance(item, dict):
                page.append(item)
                continue
            if page:
                yield page
                page = []
            yield item
        if page:
            yield page


def _configured(stream: TrastpayStream, sync_mode: SyncMode) -> ConfiguredAirbyteStream:
    return ConfiguredAirbyteStream(
        stream=stream.as_airbyte_stream(),
        sync_mode=sync_mode,
        destination_sync_mode=DestinationSyncMode.append_dedup,
    )


def _read(
    session: ScriptedSession,
    name: str,
    *,
    state: dict[str, Any] | None = None,
    sync_mode: SyncMode = SyncMode.incremental,
) -> list[AirbyteMessage]:
    stream = TrastpayStream(get_stream(name), lambda: session)  # type: ignore[arg-type, return-value]
    messages = stream.read(
        _configured(stream, sync_mode),
        logging.getLogger("test"),
        None,
        state or {},
        None,
        None,
    )
    return list(messages)  # type: ignore[arg-type]


def _states(messages: list[AirbyteMessage]) -> list[dict[str, Any]]:
    result = []
    for message in messages:
        if message.type == Type.STATE:
            assert message.state is not None
            assert message.state.stream is not None
            assert message.state.type == AirbyteStateType.STREAM
            result.append(dict(message.state.stream.stream_state.__dict__))
    return result


def _transfer(updated_at: str, ident: str) -> dict[str, Any]:
    return {"id": ident, "updated_at": updated_at}


def test_given_two_pages_when_read_incrementally_then_state_follows_each_page_in_core_shape() -> None:
    session = ScriptedSession(
        {
            ("transfers", None): [
                _transfer("2026-09-01T10:00:00+05:00", "t1"),
                _transfer("2026-09-02T10:00:00+05:00", "t2"),
                Checkpoint("2026-09-02T10:00:00+05:00"),
                _transfer("2026-09-03T10:00:00+05:00", "t3"),
                Checkpoint("2026-09-03T10:00:00+05:00"),
            ]
        }
    )

    messages = _read(session, "transfers")

    assert [m.type for m in messages] == [Type.RECORD, Type.RECORD, Type.STATE, Type.RECORD, Type.STATE]
    assert _states(messages) == [
        {"cursor": "2026-09-02T10:00:00+05:00"},
        {"cursor": "2026-09-03T10:00:00+05:00"},
    ]
    state_message = messages[2]
    assert state_message.state is not None
    assert state_message.state.stream is not None
    assert state_message.state.stream.stream_descriptor.name == "transfers"


def test_given_partitioned_stream_when_read_then_state_holds_every_partition_cursor() -> None:
    session = ScriptedSession(
        {
            ("card_transactions", "crd_a"): [
                {"id": "a1", "occurred_at": "2026-09-01T10:00:00+05:00"},
                Checkpoint("2026-09-01T10:00:00+05:00"),
            ],
            ("card_transactions", "crd_b"): [
                {"id": "b1", "occurred_at": "2026-08-01T10:00:00+05:00"},
                Checkpoint("2026-08-01T10:00:00+05:00"),
            ],
        }
    )

    states = _states(_read(session, "card_transactions"))

    assert states == [
        {"partitions": {"crd_a": {"cursor": "2026-09-01T10:00:00+05:00"}}},
        {
            "partitions": {
                "crd_a": {"cursor": "2026-09-01T10:00:00+05:00"},
                "crd_b": {"cursor": "2026-08-01T10:00:00+05:00"},
            }
        },
    ]


def test_given_saved_partition_state_when_read_incrementally_then_core_gets_each_partition_cursor() -> None:
    session = ScriptedSession(
        {
            ("card_transactions", "crd_a"): [Checkpoint("2026-09-01T10:00:00+05:00")],
            ("card_transactions", "crd_b"): [Checkpoint(None)],
        }
    )
    saved = {"partitions": {"crd_a": {"cursor": "2026-09-01T10:00:00+05:00"}}}

    _read(session, "card_transactions", state=saved)

    assert session.cursors == {
        ("card_transactions", "crd_a"): "2026-09-01T10:00:00+05:00",
        ("card_transactions", "crd_b"): None,
    }
    # announced up front, in reading order, so the core can fetch the partitions concurrently
    assert session.announced["card_transactions"] == [("crd_a", "2026-09-01T10:00:00+05:00"), ("crd_b", None)]


def test_given_saved_state_when_read_in_full_refresh_then_reads_from_start_but_still_checkpoints() -> None:
    session = ScriptedSession(
        {
            ("transfers", None): [
                _transfer("2026-09-03T10:00:00+05:00", "t3"),
                Checkpoint("2026-09-03T10:00:00+05:00"),
            ]
        }
    )

    messages = _read(
        session, "transfers", state={"cursor": "2026-10-01T00:00:00+05:00"}, sync_mode=SyncMode.full_refresh
    )

    assert session.cursors[("transfers", None)] is None
    assert _states(messages) == [{"cursor": "2026-09-03T10:00:00+05:00"}]


def test_given_stream_without_cursor_when_read_then_checkpoints_full_refresh_marker() -> None:
    session = ScriptedSession({("cards", None): [{"card_token": "crd_a"}, Checkpoint(None)]})

    messages = _read(session, "cards", sync_mode=SyncMode.full_refresh)

    assert [m.type for m in messages] == [Type.RECORD, Type.STATE]
    assert _states(messages) == [FULL_REFRESH_STATE]


def test_given_future_state_when_core_keeps_cursor_then_one_unchanged_state_and_no_records() -> None:
    future = "2099-01-01T00:00:00+05:00"
    session = ScriptedSession({("transfers", None): [Checkpoint(future)]})

    messages = _read(session, "transfers", state={"cursor": future})

    assert [m.type for m in messages] == [Type.STATE]
    assert _states(messages) == [{"cursor": future}]


def test_given_no_partitions_when_read_then_saved_state_is_checkpointed_unchanged() -> None:
    session = ScriptedSession({})
    saved = {"partitions": {"crd_gone": {"cursor": "2026-09-01T10:00:00+05:00"}}}

    assert _states(_read(session, "card_transactions", state=saved)) == [saved]


@pytest.mark.parametrize(
    ("stream", "state", "named"),
    [
        ("transfers", {"cursor": 12}, "'cursor'"),
        ("transfers", {"cursor": "yesterday"}, "'cursor'"),
        ("card_transactions", {"partitions": {"crd_a": {"cursor": "nope"}}}, "partitions.crd_a.cursor"),
        ("card_transactions", {"cursor": "2026-09-01T10:00:00+05:00"}, "'cursor'"),
    ],
)
def test_given_malformed_state_when_read_then_config_error_names_stream_and_key(
    stream: str, state: dict[str, Any], named: str
) -> None:
    session = ScriptedSession({})

    with pytest.raises(AirbyteTracedException) as raised:
        _read(session, stream, state=state)

    assert raised.value.failure_type == FailureType.config_error
    assert raised.value.message is not None
    assert f"'{stream}'" in raised.value.message
    assert named in raised.value.message


def test_given_core_error_mid_stream_when_read_then_records_so_far_then_traced_error_for_the_stream() -> None:
    session = ScriptedSession(
        {
            ("transfers", None): [
                _transfer("2026-09-01T10:00:00+05:00", "t1"),
                Checkpoint("2026-09-01T10:00:00+05:00"),
            ]
        },
        fail_with=ServerError("503 after 5 retries", status=503),
    )
    stream = TrastpayStream(get_stream("transfers"), lambda: session)  # type: ignore[arg-type, return-value]
    seen: list[Any] = []
    messages = stream.read(
        _configured(stream, SyncMode.incremental), logging.getLogger("t"), None, {}, None, None
    )

    with pytest.raises(AirbyteTracedException) as raised:
        seen.extend(messages)

    assert [m.type for m in seen] == [Type.RECORD, Type.STATE]
    assert raised.value.failure_type == FailureType.transient_error
    trace = raised.value.as_airbyte_message().trace
    assert trace is not None
    assert trace.error is not None
    assert trace.error.stream_descriptor is not None
    assert trace.error.stream_descriptor.name == "transfers"


def test_given_core_record_when_wrapped_then_data_is_the_same_object_not_a_copy() -> None:
    record = _transfer("2026-09-01T10:00:00+05:00", "t1")
    session = ScriptedSession({("transfers", None): [record, Checkpoint("2026-09-01T10:00:00+05:00")]})

    messages = _read(session, "transfers")

    assert messages[0].record is not None
    assert messages[0].record.data is record


def test_given_stream_when_described_then_catalog_entry_carries_core_keys_cursor_and_modes() -> None:
    stream = TrastpayStream(get_stream("statements"), lambda: None)  # type: ignore[arg-type, return-value]

    entry = stream.as_airbyte_stream()

    assert entry.source_defined_primary_key == [["card_token"], ["month"]]
    assert entry.default_cursor_field == ["period_start"]
    assert entry.source_defined_cursor is True
    assert entry.supported_sync_modes == [SyncMode.full_refresh, SyncMode.incremental]
    assert "period_start" in entry.json_schema["properties"]


def test_given_a_forced_unchanged_checkpoint_when_read_then_its_state_is_emitted_again() -> None:
    saved = "2026-09-05T10:00:00+05:00"
    page = [_transfer("2026-09-04T10:00:00+05:00", f"t{i}") for i in range(2)]
    script: Script = [
        *page,
        Checkpoint(saved),
        *page,
        Checkpoint(saved),
        *page,
        Checkpoint(saved, forced=True),
    ]
    session = ScriptedSession({("transfers", None): script})

    messages = _read(session, "transfers", state={"cursor": saved})

    kinds = [m.type for m in messages]
    # page 2's unchanged checkpoint is skipped, page 3's is forced by the core
    assert kinds == [Type.RECORD] * 2 + [Type.STATE] + [Type.RECORD] * 4 + [Type.STATE]
    assert _states(messages) == [{"cursor": saved}, {"cursor": saved}]
