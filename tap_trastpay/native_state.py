"""Singer state as the SDK-free sync keeps it: the same shape and the same STATE messages as singer-sdk.

A Singer target (and Meltano) stores the last STATE it saw, so both paths must hand over the same
documents at the same points. singer-sdk's bookkeeping that the tap uses is small and written
down here (checked message by message against the SDK path in
``tests/tap_trastpay/test_tap_native.py``):

* the state is ``{"bookmarks": {stream: {...}}}``; a partitioned stream keeps
  ``{"partitions": [{"context": {...}, "replication_key": ..., "replication_key_value": ...}]}``
  and entries are created (empty) the first time a stream or partition is looked at;
* loading keeps only ``bookmarks``, key by key, and drops earlier runs' ``progress_markers``;
* an incremental partition carries ``starting_replication_value`` (the newer of its bookmark and
  ``start_date``) while it is read, and finishing it removes the marker;
* a STATE is written only when it differs from the last one written, except the checkpoints the
  core forces (:class:`trastpay.session.Checkpoint`), which are written again as they are;
* in a backfill every STATE is the incoming state, unchanged.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

STARTING_MARKER = "starting_replication_value"
SIGNPOST_MARKER = "replication_key_signpost"
PROGRESS_MARKERS = "progress_markers"

Context = Mapping[str, Any]


def loadable(state: object) -> bool:
    """Whether ``state`` has the shapes the SDK path loads without failing (else it runs that path).

    An object; ``bookmarks`` an object of objects; ``partitions`` lists of objects, each with an
    object ``context``, no context twice.
    """
    if not isinstance(state, dict):
        return False
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        return False
    for stream_state in bookmarks.values():
        if not isinstance(stream_state, dict):
            return False
        partitions = stream_state.get("partitions", [])
        if not isinstance(partitions, list):
            return False
        contexts = []
        for entry in partitions:
            if not isinstance(entry, dict) or not isinstance(entry.get("context"), dict):
                return False
            if entry["context"] in contexts:
                return False
            contexts.append(entry["context"])
    return True


def loaded_state(incoming: Mapping[str, Any]) -> dict[str, Any]:
    """The tap state a run starts from: the incoming bookmarks, key by key, progress markers dropped."""
    state: dict[str, Any] = {}
    for name, stream_state in incoming.get("bookmarks", {}).items():
        for key, value in stream_state.items():
            state.setdefault("bookmarks", {}).setdefault(name, {})[key] = value
    for stream_state in state.get("bookmarks", {}).values():
        stream_state.pop(PROGRESS_MARKERS, None)
        for partition_state in stream_state.get("partitions", []):
            partition_state.pop(PROGRESS_MARKERS, None)
    return state


def existing(state: Mapping[str, Any], stream: str, context: Context | None) -> dict[str, Any] | None:
    """The stream or partition state if it exists (nothing is created)."""
    stream_state = state.get("bookmarks", {}).get(stream)
    if stream_state is None:
        return None
    if not context:
        return dict(stream_state)
    for entry in stream_state.get("partitions", []):
        if entry["context"] == context:
            return dict(entry)
    return None


def writable(state: dict[str, Any], stream: str, context: Context | None) -> dict[str, Any]:
    """The stream or partition state, created empty (``{"context": ...}``) if it does not exist."""
    stream_state: dict[str, Any] = state.setdefault("bookmarks", {}).setdefault(stream, {})
    if not context:
        return stream_state
    partitions: list[dict[str, Any]] = stream_state.setdefault("partitions", [])
    for entry in partitions:
        if entry["context"] == context:
            return entry
    entry = {"context": dict(context)}
    partitions.append(entry)
    return entry


def finalize(entry: dict[str, Any]) -> None:
    """A stream or partition read to its end: its run markers go, its bookmark stays."""
    entry.pop(SIGNPOST_MARKER, None)
    entry.pop(STARTING_MARKER, None)
    markers = entry.get(PROGRESS_MARKERS)
    if isinstance(markers, dict) and "replication_key" in markers:
        entry["replication_key"] = markers.pop("replication_key")
        entry["replication_key_value"] = markers.pop("replication_key_value")
    entry.pop(PROGRESS_MARKERS, None)


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def starting_value(entry: Mapping[str, Any], replication_key: str, start_date: object) -> Any:
    """``starting_replication_value`` of an incremental partition: the newer of bookmark and start_date."""
    value = None
    saved = entry.get("replication_key_value")
    if saved and replication_key == entry.get("replication_key"):
        value = saved
    if start_date:
        value = start_date if not value else max(value, start_date, key=_instant)
    return value


class StateOut:
    """Writes STATE messages the way the SDK path does: repeats skipped, backfills frozen."""

    def __init__(
        self, write: Callable[[dict[str, Any]], None], state: dict[str, Any], frozen: dict[str, Any] | None
    ) -> None:
        self._write = write
        self.state = state
        self._frozen = frozen
        self._last: dict[str, Any] | None = None

    def emit(self) -> None:
        """A STATE if it differs from the last one written."""
        value = self._frozen if self._frozen is not None else self.state
        if self._last is None or value != self._last:
            self._write(value)
            self._last = copy.deepcopy(value)

    def emit_again(self) -> None:
        """A STATE now, even if equal to the last one (a checkpoint the core forces)."""
        self._write(self._frozen if self._frozen is not None else self.state)


def log_starting_value(logger: logging.Logger, stream: str, value: Any) -> None:
    logger.info("Starting incremental sync of '%s' with bookmark value: %s", stream, value)
