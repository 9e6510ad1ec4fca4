"""A Singer message writer that serialises with orjson and flushes only where it matters.

singer-sdk's default writer serialises with simplejson and flushes stdout after every message, a
system call per record. Records are written to the text buffer and only SCHEMA, STATE and
ACTIVATE_VERSION messages flush it. A STATE message is therefore never visible downstream before
the records it covers, and a crash can only lose records that no emitted state vouches for, so
the next run reads them again. orjson keeps integers exact, so money in minor units stays an
int64 on the wire.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import orjson
from singer_sdk.singerlib.encoding.base import GenericSingerWriter, SingerMessageType
from singer_sdk.singerlib.encoding.simple import Message

from tap_trastpay.native_writer import json_default as _default

_FLUSHING_TYPES = frozenset(
    {SingerMessageType.SCHEMA, SingerMessageType.STATE, SingerMessageType.ACTIVATE_VERSION}
)


class OrjsonSingerWriter(GenericSingerWriter[str, Message]):
    """Writes one JSON line per Singer message to stdout."""

    def serialize_message(self, message: Message) -> str:
        """The message as one line of compact JSON (without the newline)."""
        return orjson.dumps(message.to_dict(), default=_default).decode("utf-8")

    def write_message(self, message: Message) -> None:
        """Write the message; flush for everything but records."""
        out = sys.stdout
        out.write(self.format_message(message))
        out.write("\n")
        if message.type in _FLUSHING_TYPES:
            out.flush()

    def write_record(
        self, stream: str, record: dict[str, Any], version: int | None, time_extracted: datetime
    ) -> None:
        """A RECORD line exactly as ``write_message(RecordMessage(...))`` writes it, without the object."""
        message: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            message["version"] = version
        message["time_extracted"] = time_extracted
        sys.stdout.write(orjson.dumps(message, default=_default).decode("utf-8") + "\n")
