"""The dbt package on DuckDB, over the tables PyAirbyte loaded: the build passes, breaking the
books fails it with the card and period named, and every compiled model is portable SQL."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from pycamt.parser import Camt053Parser

from trastpay.accounting import StatementAccount, export_statement, statement_from_ledger
from trastpay_demo import books
from trastpay_demo.dbt_run import ledger_summary, marts_schema, reconciliation_summary

from .conftest import BuiltWarehouse

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

RECONCILIATION_TESTS = (
    "assert_balance_continuity_per_card_period",
    "assert_cashback_reversal_has_accrual",
    "assert_card_operations_match_statement_totals",
    "assert_transfer_commission_matches_tier",
    "assert_fx_legs_match_rate",
    "assert_cashback_within_cap",
    "assert_product_books_balance",
)


def test_given_a_pyairbyte_duckdb_warehouse_when_dbt_build_then_models_and_reconciliation_pass(
    duckdb_warehouse: BuiltWarehouse,
) -> None:
    build = duckdb_warehouse.build
    assert build.ok, build.output[-4000:]
    failed = [r["unique_id"] for r in build.results if r["status"] in ("fail", "error")]
    assert not failed
    for name in RECONCILIATION_TESTS:
        assert build.status_of(name) == "pass", name
    connection = duckdb.connect(duckdb_warehouse.env["TRASTPAY_DUCKDB_PATH"], read_only=True)
    try:
        schema = marts_schema(duckdb_warehouse.env["TRASTPAY_DBT_SCHEMA"])
        book_names = {row[0] for row in ledger_summary(connection, schema)}
        cards = reconciliation_summary(connection, schema)
    finally:
        connection.close()
    assert book_names == {
        "card",
        "transfer",
        "fx",
        "myhome",
        "cashback",
        "microloan",
        "instalment_plan",
        "deposit",
    }
    assert sum(statements for _, statements, _, _ in cards) > 10
    assert all(statements == reconciled for _, statements, reconciled, _ in cards)
    assert all(difference == 0 for _, _, _, difference in cards)


def test_given_a_dropped_posting_when_dbt_build_then_balance_continuity_fails_naming_card_and_period(
    duckdb_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.duckdb"
    shutil.copyfile(duckdb_warehouse.env["TRASTPAY_DUCKDB_PATH"], broken)
    connection = duckdb.connect(str(broken))
    try:
        row = connection.execute(
            "SELECT t.id, t.card_token, strftime(t.posted_at, '%Y-%m') FROM trastpay.card_transactions t"
            " JOIN trastpay.statements s"
            " ON s.card_token = t.card_token AND s.month = strftime(t.posted_at, '%Y-%m')"
            " WHERE t.status = 'posted' AND t.amount_minor <> 0 ORDER BY t.posted_at, t.id LIMIT 1"
        ).fetchone()
        assert row is not None
        transaction_id, card, month = row
        connection.execute("DELETE FROM trastpay.card_transactions WHERE id = ?", [transaction_id])
    finally:
        connection.close()

    run = duckdb_warehouse.dbt("build", work_dir=tmp_path / "dbt", env={"TRASTPAY_DUCKDB_PATH": str(broken)})

    assert not run.ok
    assert run.status_of("assert_balance_continuity_per_card_period") == "fail"
    assert f"balance continuity broken for card {card}, statement period {month}" in run.output


def test_given_the_compiled_models_when_parsed_as_snowflake_and_bigquery_then_every_one_parses(
    duckdb_warehouse: BuiltWarehouse, dbt_installed: Path, tmp_path: Path
) -> None:
    compiled = duckdb_warehouse.dbt("compile", work_dir=tmp_path / "dbt")
    assert compiled.ok, compiled.output[-3000:]
    models = tmp_path / "dbt" / "target" / "compiled" / "trastpay" / "models"
    assert len(list(models.rglob("stg_trastpay__*.sql"))) == 16
    parsed = subprocess.run(
        [
            str(dbt_installed.parent / "python"),
            str(Path(__file__).with_name("parse_compiled.py")),
            str(models),
            "snowflake",
            "bigquery",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert parsed.returncode == 0, parsed.stdout[-3000:] + parsed.stderr[-2000:]
    assert '"failures": 0' in parsed.stdout


def test_given_the_ledger_when_a_month_is_exported_as_camt053_then_it_closes_at_the_statement_balance(
    duckdb_warehouse: BuiltWarehouse,
) -> None:
    schema = marts_schema(duckdb_warehouse.env["TRASTPAY_DBT_SCHEMA"])
    staging = duckdb_warehouse.env["TRASTPAY_DBT_SCHEMA"] + "_staging"
    connection = duckdb.connect(duckdb_warehouse.env["TRASTPAY_DUCKDB_PATH"], read_only=True)
    try:
        month = connection.execute(
            "SELECT r.card_token, r.statement_month, r.period_start_at, r.opening_balance_minor,"  # noqa: S608 (schema names are the test's own)
            " r.closing_balance_minor, c.pan_masked, c.currency, c.holder_name"
            f" FROM {schema}.trastpay__statement_reconciliation r"
            f" JOIN {staging}.stg_trastpay__cards c USING (card_token)"
            " WHERE r.is_final ORDER BY r.ledger_entry_count DESC, r.statement_id LIMIT 1"
        ).fetchone()
        assert month is not None
        card, label, _, opening, closing, pan, currency, holder = month
        cursor = connection.execute(
            f"SELECT * FROM {schema}.trastpay__ledger_entries WHERE card_token = ?",  # noqa: S608 (own schema)
            [card],
        )
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()
    first = date.fromisoformat(label + "-01")
    last = date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)
    account = StatementAccount(card_token=card, pan_masked=pan, currency=currency, holder_name=holder)

    statement = statement_from_ledger(
        rows,
        account=account,
        from_date=first,
        to_date=last,
        opening_balance_minor=opening,
        closing_balance_minor=closing,
    )
    (info,) = Camt053Parser(export_statement(statement, "camt053")).get_statement_info()

    assert statement.lines
    assert Decimal(info["OpeningBalance"]) * 100 == opening
    assert Decimal(info["ClosingBalance"]) * 100 == closing


def test_given_the_demo_warehouse_when_books_are_built_then_ledger_and_reconciliation_are_printed(
    duckdb_warehouse: BuiltWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    assert duckdb_warehouse.env["TRASTPAY_DBT_SCHEMA"] == books.DBT_SCHEMA

    status = books.build_books(Path(duckdb_warehouse.env["TRASTPAY_DUCKDB_PATH"]))

    printed = capsys.readouterr().out
    assert status == 0, printed[-3000:]
    assert "Ledger (analytics_marts.trastpay__ledger_entries)" in printed
    assert "transfer_commission" in printed
    assert "Every statement reconciles with the ledger to the tiyin." in printed
    assert " BAD " not in printed
