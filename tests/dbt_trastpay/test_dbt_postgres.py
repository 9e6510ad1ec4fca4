"""The dbt package on a real PostgreSQL loaded by the Singer tap through target-postgres: the build
passes, and its ledger equals the DuckDB (PyAirbyte) ledger row for row."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb
import psycopg
import pytest

from trastpay_demo.dbt_run import marts_schema

from .conftest import BuiltWarehouse
from .postgres_cluster import PostgresCluster

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

LEDGER_COLUMNS = (
    "entry_id, book, entry_kind, account_id, card_token, booked_at, booked_on, currency, amount_minor,"
    " amount, cbu_rate, cbu_rate_date, amount_uzs, status, affects_balance, counterparty, description,"
    " source_stream, source_record_id"
)


def _normalise(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Instants as UTC, decimals by value (1.00 == 1.0), so the engines' types compare."""
    out: list[Any] = []
    for value in row:
        if isinstance(value, datetime):
            assert value.tzinfo is not None, "ledger instants carry a time zone"
            value = value.astimezone(UTC)
        elif isinstance(value, Decimal):
            value = value.normalize()
        out.append(value)
    return tuple(out)


def test_given_postgres_loaded_by_target_postgres_when_dbt_build_then_models_and_reconciliation_pass(
    postgres_warehouse: BuiltWarehouse,
) -> None:
    build = postgres_warehouse.build
    assert build.ok, build.output[-4000:]
    assert not [r["unique_id"] for r in build.results if r["status"] in ("fail", "error")]
    assert build.status_of("assert_balance_continuity_per_card_period") == "pass"
    assert build.status_of("assert_card_operations_match_statement_totals") == "pass"
    assert build.status_of("assert_product_books_balance") == "pass"


def test_given_both_engines_when_ledgers_compared_then_equal_row_for_row(
    duckdb_warehouse: BuiltWarehouse, postgres_warehouse: BuiltWarehouse, postgres_cluster: PostgresCluster
) -> None:
    assert duckdb_warehouse.build.ok
    assert postgres_warehouse.build.ok
    query = "SELECT " + LEDGER_COLUMNS + " FROM {schema}.trastpay__ledger_entries ORDER BY entry_id"  # noqa: S608 (own column list and schema)
    connection = duckdb.connect(duckdb_warehouse.env["TRASTPAY_DUCKDB_PATH"], read_only=True)
    try:
        on_duckdb = [
            _normalise(r)
            for r in connection.execute(
                query.format(schema=marts_schema(duckdb_warehouse.env["TRASTPAY_DBT_SCHEMA"]))
            ).fetchall()
        ]
    finally:
        connection.close()
    with psycopg.connect(postgres_cluster.url) as pg:
        on_postgres = [
            _normalise(r)
            for r in pg.execute(
                query.format(schema=marts_schema(postgres_warehouse.env["TRASTPAY_DBT_SCHEMA"]))
            ).fetchall()
        ]
    assert len(on_duckdb) > 1000
    assert len(on_duckdb) == len(on_postgres)
    differences = [(a, b) for a, b in zip(on_duckdb, on_postgres, strict=True) if a != b]
    assert not differences, differences[:5]
