"""Parse and check request inputs, answering a 400 problem that names the field.

Times follow RFC 3339 with any offset (``Z``, ``+05:00``, ``-03:30``); comparison downstream is on
instants, so parsed values are timezone-aware. A time without an offset is rejected rather than
guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import orjson

from trastpay_sandbox.problems import invalid
from trastpay_sandbox.spec import query_parameter_schema

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PAGE_SIZE = query_parameter_schema("PageSize")
MAX_PAGE_SIZE: int = _PAGE_SIZE["maximum"]
"""The contract's ``page_size`` bounds and default (``components.parameters.PageSize``)."""
MIN_PAGE_SIZE: int = _PAGE_SIZE["minimum"]
DEFAULT_PAGE_SIZE: int = _PAGE_SIZE["default"]


def parse_time(field: str, raw: object) -> datetime:
    """An RFC 3339 timestamp with an offset, as an aware datetime."""
    if not isinstance(raw, str):
        raise invalid(
            field, f"'{field}' must be an RFC 3339 timestamp string, e.g. 2026-03-04T13:22:05+05:00"
        )
    match = _RFC3339.match(raw)
    if match is None:
        raise invalid(
            field, f"'{field}' is not an RFC 3339 timestamp with an offset (e.g. 2026-03-04T13:22:05Z)"
        )
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        if offset in ("Z", "z"):
            tz = UTC
        else:
            sign = 1 if offset[0] == "+" else -1
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
        parsed = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
        )
        parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise invalid(field, f"'{field}' is not a valid date and time: {raw!r}") from None
    return parsed


TASHKENT = timezone(timedelta(hours=5))
"""Asia/Tashkent (UTC+5, no daylight saving): the zone plain dates are read in."""


def parse_time_or_date(field: str, raw: object, *, end_of_day: bool) -> datetime:
    """An RFC 3339 timestamp, or a plain date ``YYYY-MM-DD`` read in Tashkent time.

    The partner offer writes statement bounds as plain dates (``"from": "2026-04-01"``); a plain
    ``from`` is 00:00 of that day and a plain ``to`` (``end_of_day``) the end of that day, i.e. 00:00 of
    the next one as the exclusive bound, so ``from = to = 2026-04-01`` is the whole of 1 April.
    """
    if isinstance(raw, str) and _DATE.match(raw):
        day = parse_date(field, raw)
        start = datetime(day.year, day.month, day.day, tzinfo=TASHKENT)
        return start + timedelta(days=1) if end_of_day else start
    if isinstance(raw, str) and not _RFC3339.match(raw):
        raise invalid(
            field,
            f"'{field}' must be a date YYYY-MM-DD (Tashkent) or an RFC 3339 timestamp with an offset "
            "(e.g. 2026-03-04T13:22:05+05:00)",
        )
    return parse_time(field, raw)


def parse_date(field: str, raw: object) -> date:
    """A calendar date ``YYYY-MM-DD``."""
    if not isinstance(raw, str) or not _DATE.match(raw):
        raise invalid(field, f"'{field}' must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise invalid(field, f"'{field}' is not a valid calendar date: {raw!r}") from None


def parse_int(field: str, raw: object, *, minimum: int, maximum: int | None = None) -> int:
    """An integer in ``minimum..maximum``; query strings and JSON integers both accepted."""
    value: int
    if isinstance(raw, bool):
        raise invalid(field, f"'{field}' must be an integer")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and re.fullmatch(r"-?\d{1,18}", raw):
        value = int(raw)
    else:
        raise invalid(field, f"'{field}' must be an integer")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise invalid(field, f"'{field}' must be in {bound}, got {value}")
    return value


def parse_page_size(raw: object | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    return parse_int("page_size", raw, minimum=MIN_PAGE_SIZE, maximum=MAX_PAGE_SIZE)


def parse_bool(field: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    raise invalid(field, f"'{field}' must be true or false")


def json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object (a 400 naming ``body`` otherwise)."""
    if not raw:
        raise invalid("body", "a JSON object body is required")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid("body", "the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise invalid("body", "the body must be a JSON object")
    return document


def required_string(body: Mapping[str, Any], field: str, *, max_length: int = 200) -> str:
    value = body.get(field)
    if value is None:
        raise invalid(field, f"'{field}' is required")
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, f"'{field}' must be a non-empty string")
    if len(value) > max_length:
        raise invalid(field, f"'{field}' is longer than {max_length} characters")
    return value


def reject_unknown(body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid(unknown[0], f"unknown field '{unknown[0]}'; allowed: {', '.join(sorted(allowed))}")


def reject_unknown_query(params: Mapping[str, str], allowed: frozenset[str]) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise invalid(
            unknown[0], f"unknown query parameter '{unknown[0]}'; allowed: {', '.join(sorted(allowed))}"
        )
