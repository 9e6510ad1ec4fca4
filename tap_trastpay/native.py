"""The tap's sync without singer-sdk: the same Singer messages, a page of records per write.

:mod:`tap_trastpay.console` runs a plain sync invocation (config files, optionally a state and a
plain catalog, none of singer-sdk's record transformations configured) here, and everything else
through singer-sdk. This module walks the streams exactly as the SDK path does (same order,
same SCHEMA / RECORD / STATE / ACTIVATE_VERSION messages at the same points, see
:mod:`tap_trastpay.native_state`) and takes every rule from the shared SDK-free modules
(:mod:`tap_trastpay.rules`), so the two paths cannot disagree on what a bookmark is.

What it does not reproduce: singer-sdk's per-record steps (property deselection, type
conformance, stream maps, flattening: the console sends those invocations to the SDK path) and
most of its log lines. It logs the start of each stream, the starting bookmark of each
incremental partition, errors, and the ``METRIC`` lines users rely on (``record_count`` and
``sync_duration`` per stream, in singer-sdk's JSON shape, on the ``singer_sdk.metrics`` logger).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from tap_trastpay import native_state, rules
from tap_trastpay.native_state import StateOut, writable
from tap_trastpay.native_writer import MessageOut
from trastpay.schemas import load_schema
from trastpay.session import Checkpoint, Partition, TrastpaySession
from trastpay.streams import EMITTED_STREAMS, StreamDef

METRICS_LOGGER = "singer_sdk.metrics"
"""singer-sdk's metrics logger name, kept so log filters and parsers of METRIC lines still match."""
METRIC_INTERVAL_SECONDS = 60.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _metric(kind: str, name: str, value: float, tags: Mapping[str, Any]) -> None:
    point = {"type": kind, "metric": name, "value": value, "tags": dict(tags)}
    logging.getLogger(METRICS_LOGGER).info(
        "METRIC: %s", json.dumps(point, default=str, separators=(",", ":"))
    )


class NativeSync:
    """One sync run: the selected streams of ``config`` from ``state``, written to ``out``."""

    def __init__(
        self,
        config: dict[str, Any],
        state: dict[str, Any] | None,
        selected: set[str] | None,
        out: MessageOut,
    ) -> None:
        self.config = config
        self.core_config = rules.trastpay_config(config)
        self.selected = selected
        self.out = out
        self.logger = logging.getLogger(rules.TAP_NAME)
        self.version = int(time.time() * 1000) // 1000
        frozen = None
        if state:
            rules.validate_incoming_state(state)
            if config.get("backfill"):
                frozen = copy.deepcopy(dict(state))  # every STATE repeats the incoming state
        self.states = StateOut(self._write_state, native_state.loaded_state(state or {}), frozen)
        self._session: TrastpaySession | None = None
        self._partitions: dict[str, dict[str, Partition]] = {}
        self._announced: set[str] = set()

    @property
    def state(self) -> dict[str, Any]:
        return self.states.state

    @property
    def session(self) -> TrastpaySession:
        """The run's one core session, opened on first use, like the SDK path's."""
        if self._session is None:
            self._session = rules.open_session(self.core_config)
        return self._session

    def _write_state(self, value: dict[str, Any]) -> None:
        self.out.message({"type": "STATE", "value": value})

    def run(self) -> None:
        """Sync every selected stream, sync_audit last; the session is closed whatever happens."""
        previous = self._on_termination()
        try:
            if self.state:
                self.states.emit()
            by_name = {stream.name: stream for stream in EMITTED_STREAMS}
            for name in rules.sync_order(by_name):
                if self.selected is not None and name not in self.selected:
                    self.logger.info("Skipping deselected stream '%s'.", name)
                    continue
                self._sync_stream(by_name[name])
        finally:
            self.out.flush()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if self._session is not None:
                self._session.close()

    def _on_termination(self) -> dict[int, Any]:
        """SIGTERM/SIGINT: write the state reached so far and exit 0, as singer-sdk's taps do."""

        def handle(signum: int, frame: FrameType | None) -> None:
            try:
                self.states.emit()
            finally:
                self.logger.info("Gracefully shutting down...")
                sys.exit(0)

        return {signum: signal.signal(signum, handle) for signum in (signal.SIGINT, signal.SIGTERM)}

    def _sync_stream(self, stream: StreamDef) -> None:
        name = stream.name
        key = stream.cursor_field
        logger = self.logger.getChild(name)
        logger.info("Beginning sync of '%s' in %s mode", name, "incremental" if key else "full_table")
        schema: dict[str, Any] = {
            "type": "SCHEMA",
            "stream": name,
            "schema": load_schema(name),
            "key_properties": list(stream.primary_key),
        }
        if key:
            schema["bookmark_properties"] = [key]
        self.out.message(schema)
        version = None
        if key is None and rules.emits_activate_version(
            stream, self.config.get("emit_activate_version_messages", False)
        ):
            version = self.version
            self.out.message({"type": "ACTIVATE_VERSION", "stream": name, "version": version})
        counter = _Counter(name)
        started = time.perf_counter()
        try:
            contexts = self._contexts(stream)
            for context in contexts or [{}]:
                counter.context = context
                self._sync_partition(stream, context or None, version, counter, logger)
        except Exception:
            logger.error("An unhandled error occurred while syncing '%s'", name)
            counter.close(time.perf_counter() - started, "failed")
            raise
        counter.close(time.perf_counter() - started, "succeeded")
        native_state.finalize(writable(self.state, name, None))
        self.states.emit()
        if version is not None:
            self.out.message({"type": "ACTIVATE_VERSION", "stream": name, "version": version})
        for context in contexts or [{}]:
            native_state.finalize(writable(self.state, name, context or None))
        self.states.emit()

    def _contexts(self, stream: StreamDef) -> list[dict[str, Any]] | None:
        """One context per parent record, listed by the core once per run; None when not partitioned."""
        if not stream.partitioned:
            return None
        return [dict(partition.values) for partition in self._core_partitions(stream).values()]

    def _core_partitions(self, stream: StreamDef) -> dict[str, Partition]:
        found = self._partitions.get(stream.name)
        if found is None:
            found = {str(p.key): p for p in self.session.partitions(stream)}
            self._partitions[stream.name] = found
        return found

    def _partition_for(self, stream: StreamDef, context: Mapping[str, Any] | None) -> Partition | None:
        if not stream.partitioned:
            return Partition(key=None, values={})
        field = stream.partition_field
        if context is None:
            return None  # a partitioned stream without any parent: nothing to read
        if field is None or field not in context:
            raise ValueError(f"Stream '{stream.name}' needs a context with '{field}'")
        key = str(context[field])
        partition = self._core_partitions(stream).get(key)
        return partition if partition is not None else Partition(key=key, values={field: key})

    def _announce_read_ahead(self, stream: StreamDef) -> None:
        """Every partition of the stream with its bookmark, so the core can fetch ahead (once)."""
        if stream.name in self._announced or not stream.partitioned:
            return
        self._announced.add(stream.name)
        plan = []
        for partition in self._core_partitions(stream).values():
            stored = native_state.existing(self.state, stream.name, dict(partition.values)) or {}
            plan.append((partition, rules.bookmark_in(stored, stream.cursor_field)))
        self.session.read_ahead(stream, plan)

    def _sync_partition(
        self,
        stream: StreamDef,
        context: Mapping[str, Any] | None,
        version: int | None,
        counter: _Counter,
        logger: logging.Logger,
    ) -> None:
        name, key = stream.name, stream.cursor_field
        if key is not None:
            entry = writable(self.state, name, context)
            value = native_state.starting_value(entry, key, self.config.get("start_date"))
            native_state.log_starting_value(logger, name, value)
            entry[native_state.STARTING_MARKER] = value
        partition = self._partition_for(stream, context)
        if partition is not None:
            self._announce_read_ahead(stream)
            cursor = rules.bookmark_in(writable(self.state, name, context), key)
            extracted = _utc_now()
            fill = list((context or {}).items())
            for item in self.session.read_pages(stream, partition, cursor):
                if type(item) is list:
                    for field, value in fill:  # singer-sdk adds the partition's keys a record lacks
                        for record in item:
                            if field not in record:
                                record[field] = value
                    self._write_page(name, item, version, extracted, counter)
                elif isinstance(item, Checkpoint):
                    if item.cursor is not None and key is not None:
                        rules.apply_checkpoint(writable(self.state, name, context), key, item.cursor)
                    if item.forced:
                        self.states.emit_again()
                    extracted = _utc_now()  # records of the next page are extracted now
        native_state.finalize(writable(self.state, name, context))

    def _write_page(
        self,
        name: str,
        records: list[dict[str, Any]],
        version: int | None,
        extracted: datetime,
        counter: _Counter,
    ) -> None:
        """A page's RECORD lines, with a STATE after every ``STATE_MSG_FREQUENCY``-th record of the stream."""
        frequency = rules.STATE_MSG_FREQUENCY
        start, total = 0, len(records)
        while start < total:
            end = min(total, start + frequency - counter.stream_records % frequency)
            self.out.records(
                name, records[start:end] if start or end < total else records, version, extracted
            )
            counter.add(end - start)
            if counter.stream_records % frequency == 0:
                self.states.emit()
            start = end


class _Counter:
    """``record_count`` and ``sync_duration`` METRIC lines of one stream, as singer-sdk logs them."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.context: Mapping[str, Any] = {}
        self.stream_records = 0
        self._unlogged = 0
        self._last_log = time.monotonic()

    def _tags(self) -> dict[str, Any]:
        return {"stream": self.stream, "pid": os.getpid(), "context": dict(self.context)}

    def add(self, count: int) -> None:
        self.stream_records += count
        self._unlogged += count
        if time.monotonic() - self._last_log > METRIC_INTERVAL_SECONDS:
            self._log_count()

    def _log_count(self) -> None:
        _metric("counter", "record_count", self._unlogged, self._tags())
        self._unlogged = 0
        self._last_log = time.monotonic()

    def close(self, seconds: float, status: str) -> None:
        _metric("timer", "sync_duration", seconds, {**self._tags(), "status": status})
        self._log_count()
