"""What a sync read, per stream and partition, and whether it can prove it read everything.

Every partition read of a sync leaves one :class:`PartitionAudit`: the window asked for, the
API's ``complete_until`` watermark, records, pages and retries, the cursor it came with and the
one it leaves, and the **late records** the re-read window found. The ``sync_audit`` stream
emits them (one record each) after every other stream, so the report lands in the warehouse
beside the data it describes.

Late records. The core does not remember which records earlier syncs emitted, so "found late"
is approximated from the record itself: its cursor is older than the position the sync started
from, and it changed (``updated_at``) after that position. Such a record was not in the state the
previous sync could have seen: a hold that posted or reversed after the saved position, or a
record the API published after its watermark had passed it. For streams whose cursor *is*
``updated_at`` a change always moves the record ahead of the saved position, so none is counted
there; the watermark keeps their visibility lag from losing data. ``late_oldest_cursor`` tells
how deep into the re-read window the oldest one was: near the window's start means the window is
too short (see docs/runbook.md).

Expected totals. Where the API states what a window must add up to, the audit compares: a card's
final monthly statement (``debit_total_minor``, ``credit_total_minor``) against the bookings of
the card operations emitted in the same sync, when the card's operation window covered every
operation that can book in that month (from ``SETTLEMENT_BOUND_DAYS`` before the month to its end,
all of it below the watermark). A mismatch raises :class:`CompletenessError` naming the stream,
partition and month, unless ``completeness_check`` is off, in which case it is only reported.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import compress, repeat
from operator import and_, is_not, itemgetter, neg, sub
from types import NoneType
from typing import TYPE_CHECKING, Any, Literal

from trastpay.cursors import TASHKENT, format_instant, parse_instant, parse_instants
from trastpay.errors import TrastpayError

if TYPE_CHECKING:
    from trastpay.records import PageColumns

SETTLEMENT_BOUND_DAYS = 7
"""The contract's bound (docs/api.md): an operation posts or reverses at most this many days after it."""

WHOLE_STREAM = "all"
"""``partition`` of an unpartitioned stream (a key part, never empty: some loaders load "" as null)."""

Mode = Literal["incremental", "full_refresh", "backfill"]
Verdict = Literal["ok", "mismatch", "not_checked"]


class CompletenessError(TrastpayError):
    """The API's own totals disagree with what the sync emitted: data is missing or wrong."""

    failure_type = "system_error"


@dataclass
class PartitionAudit:
    """One stream partition of one sync (``partition`` None for an unpartitioned stream)."""

    stream: str
    partition: str | None
    mode: Mode
    window_start: datetime | None = None
    window_end: datetime | None = None
    cursor_in: str | None = None
    cursor_out: str | None = None
    complete_until: str | None = None
    records: int = 0
    pages: int = 0
    retries: int = 0
    late_records: int = 0
    late_oldest_cursor: str | None = None
    expected: dict[str, int] = field(default_factory=dict)
    observed: dict[str, int] = field(default_factory=dict)
    verdict: Verdict = "not_checked"
    detail: str = ""

    def note_late(self, cursor: str) -> None:
        self.late_records += 1
        if self.late_oldest_cursor is None or parse_instant(cursor) < parse_instant(self.late_oldest_cursor):
            self.late_oldest_cursor = cursor

    def window_text(self) -> str:
        start = format_instant(self.window_start) if self.window_start else "the beginning"
        end = format_instant(self.window_end) if self.window_end else "now"
        return f"[{start}, {end})"


def _month_bounds(period_start: str, period_end: str) -> tuple[datetime, datetime]:
    return parse_instant(period_start), parse_instant(period_end)


_BOOKING_FIELDS = ("posted_at", "reversed_at", "amount_minor", "commission_minor")
_INT = frozenset({int})
_INT_OR_NULL = frozenset({int, NoneType})
_TEXT_OR_NULL = frozenset({str, NoneType})


def _tashkent_day(moment: datetime) -> str:
    """``YYYY-MM-DD`` of ``moment`` in Tashkent (ISO dates sort as strings)."""
    return moment.astimezone(TASHKENT).date().isoformat()


_FIRST_TEN = itemgetter(slice(0, 10))


def _day_keys(texts: Sequence[str], moments: Sequence[datetime]) -> Iterable[str]:
    """The Tashkent day of each instant: its first ten characters when every text is in Tashkent
    time (``+05:00``; the values share one layout, so the offset is the only ``+05:00`` in each)."""
    if "".join(texts).count("+05:00") == len(texts):
        return map(_FIRST_TEN, texts)
    return map(_tashkent_day, moments)


def _is_tashkent_midnight(moment: datetime) -> bool:
    local = moment.astimezone(TASHKENT)
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


@dataclass
class _CardBookings:
    """Bookings of the card operations emitted for one card, summed per Tashkent calendar day.

    Memory grows with the days a card has bookings on, not with its operations (a 1M-operation
    sync keeps a few thousand day totals, not a million instants); statement periods start and end
    at Tashkent midnight, so a month's totals are sums of whole days.
    """

    days: dict[str, list[int]] = field(default_factory=dict)
    """Tashkent day -> [debits, credits] in minor units (both counted positive)."""

    def _book(self, day_keys: Iterable[str], deltas: Iterable[int]) -> None:
        days = self.days
        for day, delta in zip(day_keys, deltas, strict=True):
            sums = days.get(day)
            if sums is None:
                sums = days[day] = [0, 0]
            if delta < 0:
                sums[0] -= delta
            else:
                sums[1] += delta

    def add_page(self, columns: PageColumns) -> bool:
        """:meth:`add` for every record of a checked page, from its columns (the same bookings);
        ``False`` (nothing added) when the page is not plain (other types, a timestamp
        :func:`~trastpay.cursors.parse_instants` cannot vouch for): the caller then adds record by
        record, which raises what it always raised."""
        values, types = columns.values, columns.types
        if any(name not in values for name in _BOOKING_FIELDS):
            return False
        if not (
            types["amount_minor"] == _INT
            and types["commission_minor"] <= _INT_OR_NULL
            and types["posted_at"] <= _TEXT_OR_NULL
            and types["reversed_at"] <= _TEXT_OR_NULL
        ):
            return False
        posted, reversed_ = values["posted_at"], values["reversed_at"]
        commission = values["commission_minor"]
        if NoneType in types["commission_minor"]:
            commission = tuple(amount or 0 for amount in commission)
        deltas = list(map(sub, values["amount_minor"], commission))
        booked = list(map(is_not, posted, repeat(None)))  # add() skips a record without posted_at
        undone = list(map(and_, booked, map(is_not, reversed_, repeat(None))))
        posted_texts = list(compress(posted, booked))
        reversed_texts = list(compress(reversed_, undone))
        posted_at = parse_instants(posted_texts)  # proves every text is an instant parse_instant reads
        reversed_at = parse_instants(reversed_texts)
        if posted_at is None or reversed_at is None:
            return False
        self._book(_day_keys(posted_texts, posted_at), compress(deltas, booked))
        self._book(_day_keys(reversed_texts, reversed_at), map(neg, compress(deltas, undone)))
        return True

    def add(self, record: Mapping[str, Any]) -> None:
        posted, reversed_ = record.get("posted_at"), record.get("reversed_at")
        amount, commission = record.get("amount_minor"), record.get("commission_minor") or 0
        if not isinstance(posted, str) or not isinstance(amount, int) or not isinstance(commission, int):
            return
        delta = amount - commission
        moments, deltas = [parse_instant(posted)], [delta]
        if isinstance(reversed_, str):
            moments.append(parse_instant(reversed_))
            deltas.append(-delta)
        self._book(map(_tashkent_day, moments), deltas)

    def totals(self, start: datetime, end: datetime) -> dict[str, int] | None:
        """Debits and credits booked in ``[start, end)``; None when a bound is not a Tashkent
        midnight (day sums cannot answer it exactly)."""
        if not (_is_tashkent_midnight(start) and _is_tashkent_midnight(end)):
            return None
        first, last = _tashkent_day(start), _tashkent_day(end)  # ISO days compare as strings
        debit = credit = 0
        for day, (debits, credits) in self.days.items():
            if first <= day < last:
                debit += debits
                credit += credits
        return {"debit_total_minor": debit, "credit_total_minor": credit}


class SyncAudit:
    """Every :class:`PartitionAudit` of one sync, in the order the partitions were finished."""

    def __init__(self, started_at: datetime, *, check: bool) -> None:
        self.sync_id = uuid.uuid4().hex
        self.started_at = started_at
        self.check = check
        self._lock = threading.Lock()
        self._done: list[PartitionAudit] = []
        self._bookings: dict[str, _CardBookings] = defaultdict(_CardBookings)
        self._card_windows: dict[str, PartitionAudit] = {}

    def finish(self, audit: PartitionAudit) -> None:
        with self._lock:
            self._done.append(audit)
            if audit.stream == "card_transactions" and audit.partition is not None:
                self._card_windows[audit.partition] = audit

    def observe_card_operations(
        self, card_token: str, records: Iterable[Mapping[str, Any]], columns: PageColumns | None = None
    ) -> None:
        """Remember the bookings of emitted card operations (each is emitted once per sync).

        ``columns``: the same page by field (``RecordProcessor.process_page``), added at once when
        the page is plain; otherwise, and without them, record by record.
        """
        with self._lock:
            book = self._bookings[card_token]
            if columns is not None and book.add_page(columns):
                return
            for record in records:
                book.add(record)

    def check_statements(self, audit: PartitionAudit, statements: Iterable[Mapping[str, Any]]) -> None:
        """Compare a card's final monthly statements with the operations this sync emitted for it.

        Only months the card's operation window covered entirely are compared (see the module
        docstring). Fills ``audit.expected``/``observed``/``verdict``; raises
        :class:`CompletenessError` on a mismatch when the check is on.
        """
        card = audit.partition
        operations = self._card_windows.get(card or "")
        if card is None or operations is None:
            audit.detail = "card_transactions of this card were not read in this sync"
            return
        expected: dict[str, int] = defaultdict(int)
        observed: dict[str, int] = defaultdict(int)
        compared: list[str] = []
        for statement in statements:
            if statement.get("is_final") is not True:
                continue
            start, end = _month_bounds(str(statement["period_start"]), str(statement["period_end"]))
            if not _covers(operations, start - timedelta(days=SETTLEMENT_BOUND_DAYS), end):
                continue
            want = {
                "debit_total_minor": int(statement.get("debit_total_minor") or 0),
                "credit_total_minor": int(statement.get("credit_total_minor") or 0),
            }
            got = self._bookings[card].totals(start, end)
            if got is None:
                continue  # a period that does not start and end at Tashkent midnight is not compared
            compared.append(str(statement.get("month")))
            for name in want:
                expected[name] += want[name]
                observed[name] += got[name]
            if want != got:
                audit.expected, audit.observed = dict(want), dict(got)
                audit.verdict = "mismatch"
                audit.detail = (
                    f"month {statement.get('month')}: the statement books debits {want['debit_total_minor']} "
                    f"and credits {want['credit_total_minor']}, the card operations emitted book "
                    f"{got['debit_total_minor']} and {got['credit_total_minor']}"
                )
                if self.check:
                    raise CompletenessError(
                        f"Stream 'card_transactions', partition {card}, window [{format_instant(start)}, "
                        f"{format_instant(end)}): incomplete or wrong against the statement: {audit.detail}. "
                        "Re-sync this window (docs/backfill.md), or set completeness_check false to only "
                        "report it in sync_audit."
                    )
                return
        if compared:
            audit.expected, audit.observed = dict(expected), dict(observed)
            audit.verdict = "ok"
            audit.detail = f"statement totals match the card operations for {', '.join(compared)}"
        else:
            audit.detail = "no final month was covered by this sync's card operation window"

    def records(self) -> list[dict[str, Any]]:
        """The ``sync_audit`` records of every partition finished so far."""
        with self._lock:
            done = list(self._done)
        return [self._record(audit) for audit in done]

    def _record(self, audit: PartitionAudit) -> dict[str, Any]:
        def text(moment: datetime | None) -> str | None:
            return format_instant(moment) if moment is not None else None

        return {
            "sync_id": self.sync_id,
            "sync_started_at": format_instant(self.started_at),
            "stream": audit.stream,
            "partition": audit.partition or WHOLE_STREAM,
            "mode": audit.mode,
            "window_start": text(audit.window_start),
            "window_end": text(audit.window_end),
            "cursor_in": audit.cursor_in,
            "cursor_out": audit.cursor_out,
            "complete_until": audit.complete_until,
            "records_emitted": audit.records,
            "pages": audit.pages,
            "retries": audit.retries,
            "late_records": audit.late_records,
            "late_oldest_cursor": audit.late_oldest_cursor,
            "expected_debit_total_minor": audit.expected.get("debit_total_minor"),
            "expected_credit_total_minor": audit.expected.get("credit_total_minor"),
            "observed_debit_total_minor": audit.observed.get("debit_total_minor"),
            "observed_credit_total_minor": audit.observed.get("credit_total_minor"),
            "check": audit.verdict,
            "check_detail": audit.detail,
        }


def _covers(operations: PartitionAudit, start: datetime, end: datetime) -> bool:
    """Whether the operation read saw everything that can book in ``[start + bound, end)``."""
    if operations.window_start is None or operations.window_start > start:
        return False
    if operations.window_end is None or operations.window_end < end:
        return False
    watermark = operations.complete_until
    return watermark is None or parse_instant(watermark) >= end


__all__ = ["SETTLEMENT_BOUND_DAYS", "WHOLE_STREAM", "CompletenessError", "PartitionAudit", "SyncAudit"]
