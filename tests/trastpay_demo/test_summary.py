from __future__ import annotations

import duckdb
import pytest

from trastpay_demo.summary import (
    commission_by_tier,
    format_minor,
    sync_audit_summary,
    table_counts,
    turnover_by_rail,
)


@pytest.fixture
def warehouse() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(":memory:")
    connection.execute("CREATE SCHEMA trastpay")
    connection.execute(
        "CREATE TABLE trastpay.card_transactions (id VARCHAR, rail VARCHAR, currency VARCHAR,"
        " status VARCHAR, amount_minor BIGINT)"
    )
    connection.execute(
        "INSERT INTO trastpay.card_transactions VALUES"
        " ('t1', 'HUMO', 'UZS', 'posted', -15200000), ('t2', 'HUMO', 'UZS', 'posted', 5000000001),"
        " ('t3', 'HUMO', 'UZS', 'pending', -999), ('t4', 'UZCARD', 'UZS', 'reversed', -100)"
    )
    connection.execute(
        "CREATE TABLE trastpay.transfers (id VARCHAR, status VARCHAR, commission_tier VARCHAR,"
        " free_limit_applied BOOLEAN, amount_minor BIGINT, commission_minor BIGINT)"
    )
    connection.execute(
        "INSERT INTO trastpay.transfers VALUES"
        " ('a', 'completed', 'HUMO_TO_UZCARD', false, 15200000, 38000),"
        " ('b', 'completed', 'HUMO_TO_UZCARD', true, 100, 0),"
        " ('c', 'failed', 'HUMO_TO_UZCARD', false, 100, 1)"
    )
    return connection


def test_given_posted_and_other_operations_when_summed_then_only_posted_turnover_counts(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    assert turnover_by_rail(warehouse, "trastpay") == [("HUMO", "UZS", 2, 5015200001)]


def test_given_completed_and_failed_transfers_when_grouped_then_commission_exact_and_free_counted(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    assert commission_by_tier(warehouse, "trastpay") == [("HUMO_TO_UZCARD", 2, 1, 15200100, 38000)]


def test_given_missing_tables_when_counted_then_zero_not_error(warehouse: duckdb.DuckDBPyConnection) -> None:
    counts = table_counts(warehouse, "trastpay")
    assert counts["card_transactions"] == 4
    assert counts["events"] == 0


def test_given_minor_units_when_formatted_then_exact_with_separators() -> None:
    assert format_minor(5_000_000_001) == "50,000,000.01 UZS"
    assert format_minor(-38000) == "-380.00 UZS"


def test_given_sync_audit_rows_when_summarised_then_one_line_per_sync_oldest_first(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    assert sync_audit_summary(warehouse, "trastpay") == []
    warehouse.execute(
        "CREATE TABLE trastpay.sync_audit (sync_id VARCHAR, sync_started_at TIMESTAMP, stream VARCHAR,"
        " partition VARCHAR, records_emitted BIGINT, pages BIGINT, retries BIGINT, late_records BIGINT,"
        ' "check" VARCHAR)'
    )
    warehouse.execute(
        "INSERT INTO trastpay.sync_audit VALUES"
        " ('s2', '2026-11-03 12:00:00', 'card_transactions', 'crd_A', 40, 1, 2, 3, 'not_checked'),"
        " ('s1', '2026-11-01 12:00:00', 'card_transactions', 'crd_A', 900, 1, 0, 0, 'not_checked'),"
        " ('s1', '2026-11-01 12:00:00', 'statements', 'crd_A', 5, 1, 1, 0, 'ok'),"
        " ('s1', '2026-11-01 12:00:00', 'events', 'all', 100, 2, 0, 0, 'not_checked')"
    )
    assert sync_audit_summary(warehouse, "trastpay") == [
        ("2026-11-01 12:00:00", 3, 1005, 4, 1, 0, "1/0"),
        ("2026-11-03 12:00:00", 1, 40, 1, 2, 3, "0/0"),
    ]
