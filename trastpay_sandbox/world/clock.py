"""Sandbox time: Tashkent wall-clock arithmetic on integer epoch seconds, and the frozen clock.

Internally every instant is an ``int`` of Unix seconds; a "day" is the number of whole Tashkent
days since 1970-01-01 (Tashkent has no DST, so a day is always 86,400 s). Formatting goes through
small caches because the statement path formats millions of timestamps.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

TASHKENT = timezone(timedelta(hours=5))
OFFSET_SECONDS = 5 * 3600
DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_TIME_OF_DAY: list[str] = []


def to_epoch(when: datetime) -> int:
    """Whole Unix seconds of an aware datetime (sub-second parts are dropped)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"datetime {when!r} must carry a UTC offset (e.g. +05:00)")
    return int(when.timestamp() // 1)


def from_epoch(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, TASHKENT)


def local_day(epoch: int) -> int:
    """Tashkent day number of an instant."""
    return (epoch + OFFSET_SECONDS) // DAY


def day_start(day: int) -> int:
    """Epoch of 00:00 Tashkent of a day number."""
    return day * DAY - OFFSET_SECONDS


def day_date(day: int) -> date:
    return date.fromordinal(day + _EPOCH_ORDINAL)


def date_day(value: date) -> int:
    return value.toordinal() - _EPOCH_ORDINAL


@lru_cache(maxsize=8192)
def day_prefix(day: int) -> str:
    return day_date(day).isoformat() + "T"


def time_table() -> list[str]:
    if not _TIME_OF_DAY:
        _TIME_OF_DAY.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+05:00" for s in range(DAY))
    return _TIME_OF_DAY


def fmt_ts(epoch: int) -> str:
    """RFC 3339 with the Tashkent offset, second precision: ``2026-03-04T13:22:05+05:00``."""
    local = epoch + OFFSET_SECONDS
    return day_prefix(local // DAY) + time_table()[local % DAY]


def month_of_day(day: int) -> tuple[int, int]:
    d = day_date(day)
    return d.year, d.month


def month_first_day(year: int, month: int) -> int:
    return date_day(date(year, month, 1))


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def add_months(value: date, months: int) -> date:
    """Same day-of-month ``months`` later, clamped to the month's last day."""
    total = value.year * 12 + value.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    ny, nm = next_month(year, month)
    last = (date(ny, nm, 1) - timedelta(days=1)).day
    return date(year, month, min(value.day, last))


class SandboxClock:
    """The sandbox's frozen clock: it moves only when told to, and never backwards."""

    def __init__(self, start: datetime) -> None:
        self._now = to_epoch(start)

    @property
    def epoch(self) -> int:
        return self._now

    def now(self) -> datetime:
        return from_epoch(self._now)

    def advance(self, delta: timedelta) -> datetime:
        seconds = int(delta.total_seconds() // 1)
        if delta <= timedelta(0) or seconds <= 0:
            raise ValueError(f"clock advance must be at least one second forward, got {delta}")
        self._now += seconds
        return self.now()

    def set(self, when: datetime) -> datetime:
        target = to_epoch(when)
        if target < self._now:
            raise ValueError(f"clock cannot go back: {when.isoformat()} is before now {fmt_ts(self._now)}")
        self._now = target
        return self.now()
