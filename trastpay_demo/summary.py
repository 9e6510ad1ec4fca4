"""What the demo prints from the warehouse: counts, turnover by rail, commission by tier, truth check."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from trastpay.streams import STREAMS
from trastpay_sandbox.verify import StreamComparison, compare_stream, duckdb_rows

TASHKENT = timezone(timedelta(hours=5))


def format_minor(amount_minor: int, currency: str = "UZS") -> str:
    """Exact major-unit text with thousands separators (exponent 2 for every currency served)."""
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(int(amount_minor)), 100)
    return f"{sign}{major:,}.{minor:02d} {currency}"


def start_instant(start_date: str) -> datetime:
    """The instant a connector's start_date means: a bare date is midnight in Tashkent."""
    parsed = datetime.fromisoformat(start_date)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=TASHKENT)


def table_counts(connection: Any, schema: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for stream in STREAMS:
        row = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, stream.name],
        ).fetchone()
        if row and row[0]:
            counted = connection.execute(f'SELECT count(*) FROM "{schema}"."{stream.name}"').fetchone()  # noqa: S608
            counts[stream.name] = int(counted[0]) if counted else 0
        else:
            counts[stream.name] = 0
    return counts


def turnover_by_rail(connection: Any, schema: str) -> list[tuple[str, str, int, int]]:
    """(rail, currency, number of posted operations, absolute turnover in minor units)."""
    rows = connection.execute(
        f"""SELECT rail, currency, count(*), sum(abs(amount_minor))::HUGEINT
            FROM "{schema}".card_transactions WHERE status = 'posted'
            GROUP BY rail, currency ORDER BY rail, currency"""  # noqa: S608
    ).fetchall()
    return [(str(r[0]), str(r[1]), int(r[2]), int(r[3] or 0)) for r in rows]


def commission_by_tier(connection: Any, schema: str) -> list[tuple[str, int, int, int, int]]:
    """(tier, completed transfers, of which commission-free, amount sent, commission) in minor units.

    Trastbank cardholders send up to 10,000,000 UZS a month free of commission, so most tiers of a
    typical customer show few charged transfers.
    """
    rows = connection.execute(
        f"""SELECT commission_tier, count(*), count(*) FILTER (WHERE free_limit_applied),
                   sum(amount_minor)::HUGEINT, sum(commission_minor)::HUGEINT
            FROM "{schema}".transfers WHERE status = 'completed'
            GROUP BY commission_tier ORDER BY commission_tier"""  # noqa: S608
    ).fetchall()
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3] or 0), int(r[4] or 0)) for r in rows]


def sync_audit_summary(connection: Any, schema: str) -> list[tuple[str, int, int, int, int, int, str]]:
    """Per sync (oldest first), from the ``sync_audit`` table: (started at, partitions read, records
    emitted, pages, retries, late records, statement checks as ``ok/mismatch``); empty without the table."""
    found = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'sync_audit'",
        [schema],
    ).fetchone()
    if not found or not found[0]:
        return []
    rows = connection.execute(
        f"""SELECT min(sync_started_at)::VARCHAR, count(*), sum(records_emitted), sum(pages), sum(retries),
                   sum(late_records), count(*) FILTER (WHERE "check" = 'ok'),
                   count(*) FILTER (WHERE "check" = 'mismatch')
            FROM "{schema}".sync_audit GROUP BY sync_id ORDER BY 1"""  # noqa: S608
    ).fetchall()
    return [(str(r[0]), *(int(v or 0) for v in r[1:6]), f"{r[6]}/{r[7]}") for r in rows]  # type: ignore[misc]


def compare_with_truth(
    connection: Any,
    schema: str,
    truth_for: Callable[[str], Iterable[Mapping[str, Any]]],
    *,
    since: datetime | None = None,
    transform: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
) -> list[StreamComparison]:
    """Compare every stream's table with the sandbox truth (``truth_for(stream) -> records``).

    ``since`` is the connector's start_date: truth records with an earlier cursor are not expected.
    ``transform`` adapts a loader's rows first (e.g. naive UTC timestamps from target-duckdb).
    """
    results = []
    for stream in STREAMS:
        loaded: list[Mapping[str, Any]] = list(duckdb_rows(connection, stream.name, schema))
        if transform is not None:
            loaded = [transform(row) for row in loaded]
        results.append(
            compare_stream(
                stream.name,
                truth_for(stream.name),
                loaded,
                primary_key=stream.primary_key,
                cursor_field=stream.cursor_field,
                since=since,
            )
        )
    return results
