"""Cursor rules shared by every incremental stream.

Cursor values are compared as instants (timezone-aware datetimes), never as strings, because the
API may answer with any RFC 3339 offset. A checkpoint keeps the record's own string so the saved
state round-trips exactly what the API sent.
"""

from __future__ import annotations

import operator
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from trastpay.config import TrastpayConfig
    from trastpay.streams import StreamDef

TASHKENT = timezone(timedelta(hours=5), "Asia/Tashkent")


def parse_instant(value: str) -> datetime:
    """Parse an RFC 3339 date-time (or a bare date, meaning 00:00 in Tashkent) to an aware datetime.

    Raises ``ValueError`` for anything else, including a date-time without an offset.
    """
    if not isinstance(value, str):
        raise ValueError("a timestamp must be a string")
    text = value.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=TASHKENT)
    if len(text) < 19 or text[10] not in "Tt ":
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    parsed = datetime.fromisoformat(text.upper() if text[-1] == "z" else text)
    if parsed.tzinfo is None:
        raise ValueError(f"date-time without an offset: {value!r}")
    return parsed


def format_instant(moment: datetime) -> str:
    """RFC 3339 with the Tashkent offset and second precision, the API's own format."""
    return moment.astimezone(TASHKENT).replace(microsecond=0).isoformat()


def reread_days(config: TrastpayConfig, stream: StreamDef) -> int:
    """Days re-read before the saved cursor: ``lookback_days`` plus the stream's own window.

    The stream's own window is ``settlement_lag_days`` for streams whose records keep changing after
    their cursor value (``stream.settles``: card holds), else its default ``reread_days``.
    """
    own = config.settlement_lag_days if stream.settles else stream.reread_days
    return config.lookback_days + own


def read_start(config: TrastpayConfig, stream: StreamDef, cursor: datetime | None) -> datetime:
    """Where a read begins: ``max(start, cursor - re-read window)`` (see :func:`reread_days`).

    ``start`` is the stream's own entry of ``stream_start_dates``, else ``start_date``. Re-reading
    that window at-least-once is what makes holds that post or reverse later, and records published
    after a sync had passed them, reach the destination.
    """
    start = config.start_for(stream.name)
    if cursor is None:
        return start
    return max(start, cursor - timedelta(days=reread_days(config, stream)))


_SUFFIX = operator.itemgetter(slice(19, None))
_SEPARATOR = operator.itemgetter(slice(10, 11))


class CursorTracker:
    """Remembers the greatest cursor seen so far, as the record's own string.

    Starts at the incoming (saved) cursor so a checkpoint never moves backwards, even while a
    lookback window re-reads older records. Values in the same format and offset as the current
    maximum (the API's usual case) compare as strings, which is exact for fixed-width RFC 3339;
    anything else is compared as an instant. :meth:`checkpoint` validates the winner.
    """

    __slots__ = ("_best", "_instant")

    def __init__(self, initial: str | None) -> None:
        self._best: str | None = initial
        self._instant: datetime | None = parse_instant(initial) if initial is not None else None

    def observe(self, value: str) -> None:
        """Take ``value`` if it is later than everything seen; raises ``ValueError`` if unparsable."""
        best = self._best
        if (
            best is not None
            and len(value) == len(best)
            and value[19:] == best[19:]
            and value[10:11] == best[10:11]
        ):
            if value > best:
                self._best = value
                self._instant = None
            return
        instant = parse_instant(value)
        current = self.instant
        if current is None or instant > current:
            self._best = value
            self._instant = instant

    def observe_all(self, values: Sequence[str]) -> None:
        """:meth:`observe` for a whole page, in C where the page is uniform (the usual case).

        When every value has the same length, separator and offset suffix, string order is time
        order and only the page's maximum needs observing; otherwise each value is observed.
        """
        if not values:
            return
        if (
            len(set(map(len, values))) == 1
            and len(set(map(_SUFFIX, values))) == 1
            and len(set(map(_SEPARATOR, values))) == 1
        ):
            self.observe(max(values))
            return
        for value in values:
            self.observe(value)

    @property
    def value(self) -> str | None:
        return self._best

    @property
    def instant(self) -> datetime | None:
        """The maximum as an aware datetime; raises ``ValueError`` if it is not a timestamp."""
        if self._instant is None and self._best is not None:
            self._instant = parse_instant(self._best)
        return self._instant

    def checkpoint(self) -> str | None:
        """The cursor to save, validated as an RFC 3339 timestamp (``ValueError`` otherwise)."""
        self.instant  # noqa: B018 - parses and caches; raises for a malformed maximum
        return self._best


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789+", b"000000000-")  # and an offset's sign as a dash
_LOCAL_SHAPES = frozenset(b"0000-00-00" + separator + b"00:00:00" for separator in (b"T", b"t", b" "))


def parse_instants(values: Sequence[str]) -> list[datetime] | None:
    """``[parse_instant(v) for v in values]`` in C, or ``None`` when that cannot be proven:
    the caller then parses value by value, which raises what it always raised.

    When every value has the shape of the first (digits as ``0``, an offset's sign as ``-``:
    ``YYYY-MM-DD?HH:MM:SS`` then the same layout of offset, same width), which has no surrounding
    space, no lower-case ``z`` and an offset, :func:`parse_instant` is ``datetime.fromisoformat``
    itself (which refuses what does not parse); one joined translation proves the shape, then
    ``fromisoformat`` is mapped over the values in C (a quarter of the cost).
    """
    if not values:
        return []
    first = values[0]
    if len(set(map(len, values))) != 1 or len(first) < 20 or first.strip() != first or first[-1] == "z":
        return None
    joined = "".join(values)
    if not joined.isascii():
        return None
    shape = first.encode("ascii").translate(_DIGITS_AS_ZERO)
    if shape[:19] not in _LOCAL_SHAPES or joined.encode("ascii").translate(_DIGITS_AS_ZERO) != shape * len(
        values
    ):
        return None
    try:
        parsed = list(map(datetime.fromisoformat, values))
    except ValueError:
        return None
    if parsed[0].tzinfo is None:  # the same shape everywhere: none of them has an offset
        return None
    return parsed
