"""One CDK stream per core stream definition.

A :class:`TrastpayStream` owns no HTTP, cursor or lookback logic: it asks the core session for the
partitions and records of its :class:`~trastpay.streams.StreamDef` and turns what comes back into
Airbyte messages. It overrides :meth:`Stream.read` rather than going through the CDK's checkpoint
readers, because the core already decides when a checkpoint is safe (after each page, never past a
record not yet yielded) and in which shape state is saved (:class:`~trastpay.state.StreamState`).
Records are wrapped as they are, without copies or schema transforms: the core promises
schema-conformant dicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from functools import cached_property
from typing import Any

from airbyte_cdk.models import (  # type: ignore[attr-defined]  # implicit re-exports
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    ConfiguredAirbyteStream,
    StreamDescriptor,
    SyncMode,
    Type,
)

from source_trastpay.compat import CompatStream, StreamData
from source_trastpay.errors import to_traced_exception
from source_trastpay.sequence import FULL_REFRESH_STATE, Snapshot, parse_stream_state, stream_sequence
from trastpay.errors import TrastpayError
from trastpay.schemas import load_schema
from trastpay.session import TrastpaySession
from trastpay.state import StreamState
from trastpay.streams import StreamDef

__all__ = ["FULL_REFRESH_STATE", "TrastpayStream", "state_message"]


SessionFactory = Callable[[], TrastpaySession]
ErrorSink = Callable[[TrastpayError], None]


def state_message(stream_name: str, stream_state: Mapping[str, Any]) -> AirbyteMessage:
    """A per-stream (STREAM-type) STATE message carrying ``stream_state`` as it is."""
    return AirbyteMessage(
        type=Type.STATE,
        state=AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name=stream_name),
                stream_state=AirbyteStateBlob(stream_state),
            ),
        ),
    )


def _now_millis() -> int:
    return time.time_ns() // 1_000_000


class TrastpayStream(CompatStream):
    """An Airbyte stream backed by one core stream definition and the sync's shared session."""

    def __init__(
        self, definition: StreamDef, session_factory: SessionFactory, on_error: ErrorSink | None = None
    ) -> None:
        self.definition = definition
        self._session_factory = session_factory
        self._on_error = on_error

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def primary_key(self) -> list[str]:
        return list(self.definition.primary_key)

    @property
    def cursor_field(self) -> str | list[str]:
        return self.definition.cursor_field or []

    @property
    def source_defined_cursor(self) -> bool:
        return True

    @cached_property
    def _json_schema(self) -> dict[str, Any]:
        return load_schema(self.definition.name)

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # base is lru_cached
        return self._json_schema

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[StreamData]:
        """Records only (no state), for callers that bypass :meth:`read`."""
        incremental = sync_mode == SyncMode.incremental
        for message in self._messages(self._parse_state(stream_state, incremental), incremental):
            if message.type == Type.RECORD and message.record is not None:
                yield message.record.data

    def read_stream(
        self,
        configured_stream: ConfiguredAirbyteStream,
        stream_state: MutableMapping[str, Any],
        state_manager: Any,
    ) -> Iterable[StreamData]:
        """Records and STATE messages of one stream, in the order the core produces them.

        In full-refresh mode the saved state is ignored (every partition starts at start_date) but
        the state reached is still checkpointed, so a later incremental sync can pick up from it.
        """
        incremental = configured_stream.sync_mode == SyncMode.incremental
        # the stored blob as it came: the CDK hands full-refresh streams {} instead of their marker
        stored = state_manager.get_stream_state(self.name, self.namespace) if state_manager else None
        incoming = stored if stored is not None else stream_state
        return self._messages(
            self._parse_state(stream_state, incremental), incremental, state_manager, dict(incoming or {})
        )

    def _parse_state(self, stream_state: Mapping[str, Any] | None, incremental: bool) -> StreamState:
        try:
            return parse_stream_state(self.definition, stream_state, incremental)
        except TrastpayError as error:
            raise to_traced_exception(error, stream=self.name) from error

    def _messages(
        self,
        state: StreamState,
        incremental: bool,
        state_manager: Any = None,
        incoming: dict[str, Any] | None = None,
    ) -> Iterator[AirbyteMessage]:
        """The stream's :func:`~source_trastpay.sequence.stream_sequence` as CDK messages."""
        name = self.definition.name
        record_type = Type.RECORD
        try:
            session = self._session_factory()
            for item in stream_sequence(session, self.definition, state, incremental, incoming or {}):
                if type(item) is list:
                    emitted_at = _now_millis()
                    for record in item:
                        yield AirbyteMessage(
                            type=record_type,
                            record=AirbyteRecordMessage(stream=name, data=record, emitted_at=emitted_at),
                        )
                else:
                    assert isinstance(item, Snapshot)
                    yield self._checkpoint(item.state, state_manager)
        except TrastpayError as error:
            if self._on_error is not None:
                self._on_error(error)
            raise to_traced_exception(error, stream=name) from error

    def _checkpoint(self, snapshot: dict[str, Any], state_manager: Any) -> AirbyteMessage:
        """The STATE message for ``snapshot``, also recorded in the CDK's state manager when there is one."""
        if state_manager is not None:
            state_manager.update_state_for_stream(self.name, None, snapshot)
        return state_message(self.name, snapshot)
