"""Per-stream state in the one shape both adapters save.

``{"cursor": "<ts>"}`` for an unpartitioned stream, ``{"partitions": {"<key>": {"cursor": "<ts>"}}}``
for a partitioned one (key = card token, loan id, ...). Parsing rejects malformed state with a
:class:`~trastpay.errors.StateError` naming the stream and key instead of silently restarting a
sync from scratch or, worse, skipping data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trastpay.cursors import parse_instant
from trastpay.errors import StateError
from trastpay.streams import StreamDef


def _cursor_value(stream: StreamDef, where: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise StateError(
            f"State of stream '{stream.name}': '{where}' must be an RFC 3339 timestamp string, "
            f"got {type(raw).__name__}"
        )
    try:
        parse_instant(raw)
    except ValueError:
        raise StateError(
            f"State of stream '{stream.name}': '{where}' is not an RFC 3339 timestamp with an offset"
        ) from None
    return raw


def moves_forward(current: str | None, cursor: str | None) -> bool:
    """Whether saving ``cursor`` over ``current`` moves a bookmark: never backwards, never sideways.

    The one bookmark rule of both adapters; instants are compared, not strings, because the API
    may answer with any RFC 3339 offset.
    """
    return cursor is not None and (current is None or parse_instant(cursor) > parse_instant(current))


class StreamState:
    """The saved cursors of one stream; :meth:`advance` never moves a cursor backwards."""

    __slots__ = ("_cursors", "stream")

    def __init__(self, stream: StreamDef, cursors: Mapping[str | None, str] | None = None) -> None:
        self.stream = stream
        self._cursors: dict[str | None, str] = dict(cursors or {})

    @classmethod
    def parse(cls, stream: StreamDef, raw: Mapping[str, Any] | None) -> StreamState:
        """Read a saved state; ``None`` or ``{}`` means a first sync."""
        if raw is None:
            return cls(stream)
        if not isinstance(raw, Mapping):
            raise StateError(f"State of stream '{stream.name}' must be a JSON object")
        if not stream.incremental:
            return cls(stream)
        if not stream.partitioned:
            if "partitions" in raw:
                raise StateError(
                    f"State of stream '{stream.name}': key 'partitions' found but the stream is not "
                    'partitioned; expected {"cursor": "<timestamp>"}'
                )
            value = _cursor_value(stream, "cursor", raw.get("cursor"))
            return cls(stream, {None: value} if value is not None else None)
        if "cursor" in raw and "partitions" not in raw:
            raise StateError(
                f"State of stream '{stream.name}': key 'cursor' found but the stream is partitioned by "
                f'{stream.partition_field}; expected {{"partitions": {{"<key>": {{"cursor": ...}}}}}}'
            )
        partitions = raw.get("partitions", {})
        if not isinstance(partitions, Mapping):
            raise StateError(f"State of stream '{stream.name}': 'partitions' must be a JSON object")
        cursors: dict[str | None, str] = {}
        for key, entry in partitions.items():
            if not isinstance(entry, Mapping):
                raise StateError(
                    f"State of stream '{stream.name}': 'partitions.{key}' must be an object like "
                    '{"cursor": "<timestamp>"}'
                )
            value = _cursor_value(stream, f"partitions.{key}.cursor", entry.get("cursor"))
            if value is not None:
                cursors[str(key)] = value
        return cls(stream, cursors)

    def _check_key(self, partition_key: str | None) -> None:
        if self.stream.partitioned and partition_key is None:
            raise ValueError(f"stream '{self.stream.name}' is partitioned: a partition key is required")
        if not self.stream.partitioned and partition_key is not None:
            raise ValueError(f"stream '{self.stream.name}' is not partitioned: partition key must be None")

    def cursor_for(self, partition_key: str | None) -> str | None:
        """The saved cursor of a partition (``None`` for unpartitioned streams), or ``None``."""
        self._check_key(partition_key)
        return self._cursors.get(partition_key)

    def advance(self, partition_key: str | None, cursor: str | None) -> None:
        """Save ``cursor`` for the partition unless it is earlier than what is saved already."""
        self._check_key(partition_key)
        if cursor is not None and moves_forward(self._cursors.get(partition_key), cursor):
            self._cursors[partition_key] = cursor

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready state (a fresh dict the caller may keep)."""
        if not self.stream.partitioned:
            value = self._cursors.get(None)
            return {"cursor": value} if value is not None else {}
        return {"partitions": {key: {"cursor": value} for key, value in sorted(self._cursors.items())}}

    def __repr__(self) -> str:
        return f"StreamState({self.stream.name!r}, {self.to_dict()!r})"
