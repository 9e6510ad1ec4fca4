"""Singer messages as bytes on stdout, a page of records per write (the SDK-free sync's writer).

Each RECORD line is byte for byte what :meth:`tap_trastpay.writer.OrjsonSingerWriter.write_record`
writes (``{"type":"RECORD","stream":...,"record":...,["version":...,]"time_extracted":...}``), but
only the record is serialised per line: the parts every line of a page shares are serialised
once, and the page goes out in one ``write`` to ``sys.stdout.buffer`` (one ``TextIOWrapper.write``
per record was the SDK path's largest cost after the SDK's own per-record steps). SCHEMA, STATE
and ACTIVATE_VERSION flush, so a STATE is never visible downstream before the records it covers.
orjson keeps integers exact, so money in minor units stays an int64 on the wire.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from datetime import datetime
from typing import Any, BinaryIO

import orjson


def json_default(value: Any) -> Any:
    """Serialise what orjson does not know; a Decimal stays exact as a string, never a float."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"Cannot serialise a value of type {type(value).__name__} in a Singer message")


class MessageOut:
    """Writes Singer messages, one JSON line each, to a binary stream (stdout's buffer)."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def message(self, message: dict[str, Any]) -> None:
        """Write one SCHEMA, STATE or ACTIVATE_VERSION message and flush everything before it."""
        self._out.write(orjson.dumps(message, default=json_default) + b"\n")
        self._out.flush()

    def records(
        self, stream: str, records: Sequence[dict[str, Any]], version: int | None, time_extracted: datetime
    ) -> None:
        """Write RECORD lines for ``records`` in one write (not flushed: the next STATE flushes)."""
        if not records:
            return
        head = b'{"type":"RECORD","stream":' + orjson.dumps(stream) + b',"record":'
        tail = b',"time_extracted":' + orjson.dumps(time_extracted) + b"}\n"
        if version is not None:
            tail = b',"version":' + orjson.dumps(version) + tail
        joint = tail + head
        try:  # the core's records are JSON-native: no per-record Python frame for a default hook
            body = joint.join(map(orjson.dumps, records))
        except TypeError:  # orjson.JSONEncodeError: a value orjson does not know (a Decimal)
            body = joint.join([orjson.dumps(record, default=json_default) for record in records])
        self._out.write(head + body + tail)

    def flush(self) -> None:
        self._out.flush()
