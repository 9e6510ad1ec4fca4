"""The two rules that keep a saved position from passing data the API has not shown yet.

**Watermark.** Every list and statement answer carries ``complete_until``: the instant up to which
the API's data for that list is final (every record whose cursor is at or before it is listed).
Records behind it can still become visible later (operations published with a lag), so a
checkpoint is never later than the lowest ``complete_until`` of the partition's answers:
``min(greatest cursor emitted, watermark)``, and never earlier than the incoming cursor. An answer
without it (an API that does not announce one) leaves the checkpoint as before; the per-stream
re-read windows (:func:`trastpay.cursors.reread_days`) are then the only cover.

**Late records.** A record whose cursor is older than the position the read started from and
which changed after that position (``updated_at``) is counted as found late; see
:mod:`trastpay.completeness` for why that approximates "not seen before".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import compress, repeat
from operator import ge, is_not
from types import NoneType
from typing import TYPE_CHECKING, Any

from trastpay.completeness import PartitionAudit
from trastpay.cursors import parse_instant, parse_instants
from trastpay.errors import PayloadError
from trastpay.state import moves_forward

if TYPE_CHECKING:
    from trastpay.records import PageColumns


class Watermark:
    """The lowest ``complete_until`` seen in one partition's answers."""

    __slots__ = ("instant", "text")

    def __init__(self) -> None:
        self.text: str | None = None
        self.instant: datetime | None = None

    def observe(self, value: Any, where: str) -> None:
        """Take one answer's ``complete_until`` (``None``: the answer had none)."""
        if value is None:
            return
        if not isinstance(value, str):
            raise PayloadError(f"{where}: 'complete_until' is not an RFC 3339 timestamp.")
        try:
            instant = parse_instant(value)
        except ValueError:
            raise PayloadError(f"{where}: 'complete_until' is not an RFC 3339 timestamp.") from None
        if self.instant is None or instant < self.instant:
            self.text, self.instant = value, instant

    def cap(self, checkpoint: str | None, incoming: str | None) -> str | None:
        """``checkpoint`` held back to the watermark, but never behind ``incoming``."""
        if checkpoint is None or self.instant is None or parse_instant(checkpoint) <= self.instant:
            return checkpoint
        return self.text if moves_forward(incoming, self.text) else incoming


class LateFinder:
    """Counts records found behind the position a read started from (see the module docstring)."""

    __slots__ = ("_changed_field", "_cursor_field", "_saved")

    def __init__(self, cursor_field: str, saved: str | None) -> None:
        self._cursor_field = cursor_field
        self._saved = parse_instant(saved) if saved is not None else None
        self._changed_field = "updated_at" if cursor_field != "updated_at" else None

    def scan(
        self, records: Sequence[dict[str, Any]], audit: PartitionAudit, columns: PageColumns | None = None
    ) -> None:
        """Note every late record of a page (records come in cursor order).

        ``columns`` (the page by field, see ``RecordProcessor.process_page``): the cursors and the
        change instants are parsed a column at a time in C (:func:`~trastpay.cursors.parse_instants`)
        when they allow it; otherwise each is parsed, as without them.
        """
        saved, changed_field = self._saved, self._changed_field
        if saved is None or changed_field is None or not records:
            return
        if columns is not None and self._scan_columns(columns, saved, changed_field, audit):
            return
        cursor_field = self._cursor_field
        if parse_instant(records[0][cursor_field]) >= saved:
            return
        for record in records:
            cursor = record[cursor_field]
            if parse_instant(cursor) >= saved:
                return
            changed = record.get(changed_field)
            if isinstance(changed, str) and parse_instant(changed) > saved:
                audit.note_late(cursor)

    def _scan_columns(
        self, columns: PageColumns, saved: datetime, changed_field: str, audit: PartitionAudit
    ) -> bool:
        """:meth:`scan` over whole columns parsed in C; ``False`` (nothing noted) when the page is
        not plain (the caller then parses record by record, raising what it always raised)."""
        cursors, changes = columns.values.get(self._cursor_field), columns.values.get(changed_field)
        if cursors is None or changes is None or columns.types[changed_field] - _TEXT_OR_NULL:
            return False
        if parse_instant(cursors[0]) >= saved:  # the usual page: nothing behind the saved position
            return True
        instants = parse_instants(cursors)
        if instants is None:
            return False
        reached = list(map(ge, instants, repeat(saved)))
        behind = reached.index(True) if True in reached else len(cursors)
        changed = changes[:behind]
        noted = list(compress(range(behind), map(is_not, changed, repeat(None))))
        changed_at = parse_instants([changed[index] for index in noted])
        if changed_at is None:
            return False
        for index, moment in zip(noted, changed_at, strict=True):
            if moment > saved:
                audit.note_late(cursors[index])
        return True


_TEXT_OR_NULL = frozenset({str, NoneType})

__all__ = ["LateFinder", "Watermark"]
