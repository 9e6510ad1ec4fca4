"""One singer-sdk stream class that wraps any core :class:`~trastpay.streams.StreamDef`.

The stream is a thin adapter: the core's session reads, pages, retries, masks and decides the
cursor to save; this class only turns the core's output into Singer records and bookmarks.

Why plain :class:`singer_sdk.Stream` and not ``RESTStream``: the core's client owns HTTP, retries,
``Retry-After``, the shared request budget and the one-time refresh on 401; the SDK's request
machinery would duplicate (and fight) all of it.

Bookmarks come only from the core's :class:`~trastpay.session.Checkpoint` values. singer-sdk would
otherwise advance the bookmark to the newest record seen; with a lookback window the first records
of a run are older than the saved bookmark, which the SDK either treats as a sort error or uses to
move the bookmark past records the core has not finished (holds that settle later).
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable, Mapping
from typing import Any

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform

from tap_trastpay import rules
from tap_trastpay.compat import CompatStream, StateMessage, get_state_if_exists, utc_now
from tap_trastpay.rules import BOOKMARK_KEY, bookmarks_as_core_state
from tap_trastpay.writer import OrjsonSingerWriter
from trastpay.schemas import load_schema
from trastpay.session import Checkpoint, Partition
from trastpay.streams import StreamDef

if t.TYPE_CHECKING:
    from singer_sdk.helpers import types

    from tap_trastpay.tap import TapTrastpay

__all__ = ["BOOKMARK_KEY", "TrastpayStream", "bookmarks_as_core_state"]


class TrastpayStream(CompatStream):
    """A Trastpay stream: records in cursor order from the core, bookmarks from its checkpoints."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    """The core emits JSON-native, schema-conformant values already (ints for money, RFC 3339
    strings for time); conforming would only copy every record."""

    STATE_MSG_FREQUENCY = rules.STATE_MSG_FREQUENCY
    """Records between STATE messages inside one partition (each is the last core checkpoint)."""

    def __init__(self, tap: TapTrastpay, stream_def: StreamDef) -> None:
        self.stream_def = stream_def
        self._trastpay_tap = tap
        self._partitions: dict[str, Partition] | None = None
        self._read_ahead_announced = False
        self._pass_through: bool | None = None
        self._extracted_at = utc_now()
        super().__init__(tap=tap, schema=load_schema(stream_def.name), name=stream_def.name)
        self.primary_keys = list(stream_def.primary_key)
        self.replication_key = stream_def.cursor_field

    @property
    def emit_activate_version_messages(self) -> bool:
        """Table versions only where a full read replaces the table (never the appended sync_audit)."""
        return rules.emits_activate_version(self.stream_def, super().emit_activate_version_messages)

    @property
    def is_sorted(self) -> bool:
        """Records arrive in cursor order, so an interrupted sync can resume from its state."""
        return True

    @property
    def check_sorted(self) -> bool:
        """Sorting is the core's promise; the SDK's string comparison is never consulted."""
        return False

    @property
    def partitions(self) -> list[dict[str, Any]] | None:
        """One context per parent record (card, loan, plan, deposit), listed by the core once per run."""
        if not self.stream_def.partitioned:
            return None
        return [dict(partition.values) for partition in self._core_partitions().values()]

    def _core_partitions(self) -> dict[str, Partition]:
        if self._partitions is None:
            session = self._trastpay_tap.session
            self._partitions = {
                str(partition.key): partition for partition in session.partitions(self.stream_def)
            }
        return self._partitions

    def _partition_for(self, context: types.Context | None) -> Partition | None:
        """The core partition of a context; None when a partitioned stream has no parent at all.

        singer-sdk syncs a stream with an empty partition list once without context.
        """
        if not self.stream_def.partitioned:
            return Partition(key=None, values={})
        field = self.stream_def.partition_field
        if context is None:
            return None
        if field is None or field not in context:
            raise ValueError(f"Stream '{self.name}' needs a context with '{field}'")
        key = str(context[field])
        partition = self._core_partitions().get(key)
        return partition if partition is not None else Partition(key=key, values={field: key})

    def get_replication_key_signpost(self, context: types.Context | None = None) -> None:
        """No signpost: the bookmark is only ever what the core checkpointed."""
        return None

    def saved_cursor(self, context: types.Context | None) -> str | None:
        """The bookmark of this partition from the incoming state, or None to start at start_date.

        Not ``get_starting_replication_key_value``: that answers ``start_date`` when there is no
        bookmark, and the core would then checkpoint ``start_date`` itself as if data had been read.
        The core applies ``start_date``, lookback and settlement lag to the raw bookmark.
        """
        return self._bookmark_in(self.get_context_state(context))

    def _bookmark_in(self, state: Mapping[str, Any]) -> str | None:
        return rules.bookmark_in(state, self.replication_key)

    def _announce_read_ahead(self) -> None:
        """Tell the core every partition this run will read, with its bookmark, so it can fetch ahead.

        The bookmarks are looked up without creating state entries for partitions not read yet.
        """
        if self._read_ahead_announced or not self.stream_def.partitioned:
            return
        self._read_ahead_announced = True
        plan = []
        for partition in self._core_partitions().values():
            stored = get_state_if_exists(self.tap_state, self.name, dict(partition.values)) or {}
            plan.append((partition, self._bookmark_in(stored)))
        self._trastpay_tap.session.read_ahead(self.stream_def, plan)

    def get_records(self, context: types.Context | None) -> Iterable[dict[str, Any]]:
        """Delegate to the core; apply each checkpoint after the records before it were written."""
        partition = self._partition_for(context)
        if partition is None:
            return
        self._announce_read_ahead()
        cursor = self.saved_cursor(context)
        self._extracted_at = utc_now()
        for item in self._trastpay_tap.session.read(self.stream_def, partition, cursor):
            if isinstance(item, Checkpoint):
                self._apply_checkpoint(context, item.cursor)
                if item.forced:
                    self._write_state_again()
                self._extracted_at = utc_now()  # records of the next page are extracted now
            else:
                yield item

    def _apply_checkpoint(self, context: types.Context | None, cursor: str | None) -> None:
        if cursor is None or self.replication_key is None:
            return
        if rules.apply_checkpoint(self.get_context_state(context), self.replication_key, cursor):
            self.state_manager.is_flushed = False

    def write_record(self, record: types.Record) -> None:
        """Write one record; straight to the writer when the SDK's per-record steps would not change it.

        Those steps are: dropping deselected properties, type conformance and stream maps. With
        every property selected, conformance off (the core's records conform already) and no
        stream map, they return the record as it is, and skipping them halves the tap's CPU per
        record. Anything else goes through the SDK unchanged.
        """
        if self._pass_through is None:
            self._pass_through = self._records_pass_through()
        if not self._pass_through:
            self.sdk_write_record(record)
            return
        writer = self._trastpay_tap.message_writer
        assert isinstance(writer, OrjsonSingerWriter)
        writer.write_record(self.name, record, self.table_version, self._extracted_at)
        self.state_manager.is_flushed = False

    def _write_state_again(self) -> None:
        """A STATE message now, even if equal to the last one (the SDK's writer skips repeats).

        The core forces it (:class:`trastpay.session.Checkpoint`) when a re-read window ran for
        many records without moving a bookmark: a target commits what it loaded on STATE.
        """
        self._trastpay_tap.message_writer.write_message(
            StateMessage(value=self._trastpay_tap.state_to_emit())
        )

    def _records_pass_through(self) -> bool:
        maps = self.stream_maps
        return (
            self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
            and all(self.mask.values())
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
            and maps[0].stream_alias == self.name
            and isinstance(self._trastpay_tap.message_writer, OrjsonSingerWriter)
        )
