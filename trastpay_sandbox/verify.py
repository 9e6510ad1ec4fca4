"""Compare what a connector loaded into a warehouse with the sandbox's ground truth.

The strongest check of a connector is: sync, advance the sandbox clock, sync again, then compare
the deduplicated tables with ``/_sandbox/truth/{stream}``. This module does the comparison once for
every caller (the demo, the PyAirbyte and Meltano end-to-end tests): it deduplicates rows on the
primary key (keeping the latest by cursor, then by load order), normalises warehouse types
(timestamps, decimals, JSON columns) back to the API's values, and reports per stream which keys
are missing or extra, which fields differ, and whether every ``*_minor`` sum matches to the tiyin.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


@dataclass
class StreamComparison:
    """The outcome of comparing one stream; ``ok`` when nothing differs."""

    stream: str
    truth_count: int
    loaded_count: int
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    mismatched: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)
    sums: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def sums_equal(self) -> bool:
        return all(truth == loaded for truth, loaded in self.sums.values())

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra and not self.mismatched and self.sums_equal

    def describe(self, limit: int = 5) -> str:
        """A short human-readable account of what differs (keys and field names, no full records)."""
        if self.ok:
            return f"{self.stream}: {self.loaded_count} records match the truth"
        parts = [f"{self.stream}: truth {self.truth_count}, loaded {self.loaded_count}"]
        if self.missing:
            parts.append(f"missing {len(self.missing)} (e.g. {self.missing[:limit]})")
        if self.extra:
            parts.append(f"extra {len(self.extra)} (e.g. {self.extra[:limit]})")
        if self.mismatched:
            sample = list(self.mismatched.items())[:limit]
            parts.append(
                f"{len(self.mismatched)} differ (e.g. "
                + "; ".join(f"{key}: {sorted(fields)}" for key, fields in sample)
                + ")"
            )
        for name, (truth, loaded) in self.sums.items():
            if truth != loaded:
                parts.append(f"sum({name}) truth {truth} != loaded {loaded}")
        return ", ".join(parts)


def normalise(value: Any) -> Any:
    """Bring a warehouse or API value to one comparable form.

    Timestamps become UTC ISO strings (instants, whatever the offset), dates ISO strings,
    integral decimals ints, JSON text of objects/arrays parsed, dicts and lists recursively.
    """
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, float):
        raise TypeError(f"binary float {value!r} found where exact values are expected")
    if isinstance(value, str):
        return _normalise_string(value)
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    return value


def _normalise_string(value: str) -> Any:
    stripped = value.strip()
    if stripped[:1] in "{[" and stripped[-1:] in "}]":
        try:
            return normalise(json.loads(stripped, parse_float=Decimal))
        except ValueError:
            return value
    if len(value) >= 20 and value[4:5] == "-" and value[10:11] == "T":
        try:
            return normalise(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


def values_equal(expected: Any, actual: Any) -> bool:
    """Whether a truth value and a warehouse value mean the same thing.

    Some loaders (PyAirbyte's DuckDB cache among them) store RFC 3339 timestamps in a
    ``TIMESTAMP`` column without time zone, keeping the wall-clock part of ``+05:00``: such a naive
    value is compared with the truth's local wall time. Everything else compares after
    :func:`normalise`.
    """
    if isinstance(actual, datetime) and actual.tzinfo is None and isinstance(expected, str):
        try:
            parsed = datetime.fromisoformat(expected)
        except ValueError:
            return False
        return parsed.replace(tzinfo=None) == actual
    return bool(normalise(expected) == normalise(actual))


def cursor_at_or_after(record: Mapping[str, Any], cursor_field: str | None, since: datetime | None) -> bool:
    """Whether a truth record falls inside a sync that started at ``since`` (a connector's start_date)."""
    if since is None or cursor_field is None:
        return True
    value = record.get(cursor_field)
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value) >= since


def primary_key_of(record: Mapping[str, Any], primary_key: Sequence[str]) -> str:
    return ":".join(str(record.get(part)) for part in primary_key)


def deduplicate(
    rows: Iterable[Mapping[str, Any]], primary_key: Sequence[str], cursor_field: str | None
) -> dict[str, dict[str, Any]]:
    """Keep one row per primary key: the one with the latest cursor, later rows winning ties."""
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = primary_key_of(row, primary_key)
        current = latest.get(key)
        if current is None or cursor_field is None:
            latest[key] = dict(row)
            continue
        if normalise(row.get(cursor_field)) >= normalise(current.get(cursor_field)):
            latest[key] = dict(row)
    return latest


def compare_stream(
    stream: str,
    truth: Iterable[Mapping[str, Any]],
    loaded: Iterable[Mapping[str, Any]],
    *,
    primary_key: Sequence[str],
    cursor_field: str | None = None,
    fields: Sequence[str] | None = None,
    since: datetime | None = None,
) -> StreamComparison:
    """Compare one stream's truth with the rows a connector loaded (duplicates allowed in ``loaded``).

    ``fields`` limits the field-by-field comparison (default: every field of the truth records;
    columns the warehouse added, such as ``_airbyte_*`` or ``_sdc_*``, are ignored). ``since``
    drops truth records whose cursor is before the connector's start_date.
    """
    truth_by_key = {
        primary_key_of(r, primary_key): dict(r) for r in truth if cursor_at_or_after(r, cursor_field, since)
    }
    loaded_by_key = deduplicate(loaded, primary_key, cursor_field)
    result = StreamComparison(stream, truth_count=len(truth_by_key), loaded_count=len(loaded_by_key))
    result.missing = sorted(set(truth_by_key) - set(loaded_by_key))
    result.extra = sorted(set(loaded_by_key) - set(truth_by_key))
    for key in sorted(set(truth_by_key) & set(loaded_by_key)):
        expected, actual = truth_by_key[key], loaded_by_key[key]
        names = fields if fields is not None else list(expected)
        differing = {
            name: (expected.get(name), actual.get(name))
            for name in names
            if not values_equal(expected.get(name), actual.get(name))
        }
        if differing:
            result.mismatched[key] = differing
    minor_fields = sorted({name for r in truth_by_key.values() for name in r if name.endswith("_minor")})
    for name in minor_fields:
        result.sums[name] = (
            sum(int(r.get(name) or 0) for r in truth_by_key.values()),
            sum(int(r.get(name) or 0) for r in loaded_by_key.values()),
        )
    return result


def duckdb_rows(connection: Any, table: str, schema: str | None = None) -> list[dict[str, Any]]:
    """Every row of a DuckDB table as dicts (``connection`` is a ``duckdb`` connection)."""
    qualified = f'"{schema}"."{table}"' if schema else f'"{table}"'
    cursor = connection.execute(f"SELECT * FROM {qualified}")  # noqa: S608 - names come from the stream table
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
