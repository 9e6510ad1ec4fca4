"""The demo's last step: ``dbt build`` of the dbt_trastpay package over the demo's DuckDB warehouse,
then the ledger summary and the statement reconciliation it produced."""

from __future__ import annotations

import tempfile
from pathlib import Path

from trastpay_demo.dbt_run import (
    PYAIRBYTE_DUCKDB_VARS,
    ledger_summary,
    marts_schema,
    reconciliation_summary,
    run_dbt,
)
from trastpay_demo.summary import format_minor

DBT_SCHEMA = "analytics"


def build_books(warehouse: Path) -> int:
    """Run ``dbt build``, print what it found; returns 0 when every model and test passed."""
    import duckdb

    print(f"\n== dbt build (dbt_trastpay) over {warehouse}: staging, ledger, reconciliation, tests ==")
    with tempfile.TemporaryDirectory(prefix="trastpay-dbt-") as work:
        run = run_dbt(
            ["build"],
            target="duckdb",
            work_dir=Path(work),
            variables=PYAIRBYTE_DUCKDB_VARS,
            env={"TRASTPAY_DUCKDB_PATH": str(warehouse.resolve()), "TRASTPAY_DBT_SCHEMA": DBT_SCHEMA},
        )
    counts: dict[str, int] = {}
    for result in run.results:
        counts[str(result.get("status"))] = counts.get(str(result.get("status")), 0) + 1
    print("dbt: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    for line in run.output.splitlines():
        if "Found by " in line:  # the failing rows the package's tests print (macros/report_failures.sql)
            print("  " + line[line.index("Found by ") :])
    if not run.ok:
        print(run.output[-3000:])
        return 1
    schema = marts_schema(DBT_SCHEMA)
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        ledger = ledger_summary(connection, schema)
        cards = reconciliation_summary(connection, schema)
    finally:
        connection.close()
    print(f"\nLedger ({schema}.trastpay__ledger_entries): entries that move a balance, by book")
    print(f"  {'book':<16}{'entry kind':<26}{'entries':>8}  {'sum':>26}  {'in soum (CBU)':>26}")
    for book, kind, currency, count, total, in_soum, unrated in ledger:
        soum = f"({unrated} without a CBU rate)" if unrated else format_minor(int(in_soum * 100), "UZS")
        print(f"  {book:<16}{kind:<26}{count:>8}  {format_minor(total, currency):>26}  {soum:>26}")
    print(f"\nStatement reconciliation ({schema}.trastpay__statement_reconciliation)")
    for card, statements, reconciled, difference in cards:
        verdict = "OK " if statements == reconciled else "BAD"
        print(
            f"  {verdict} {card}: {reconciled}/{statements} monthly statements reconciled"
            f" (opening + ledger = closing; debit, credit, commission, entry count), "
            f"total difference {difference} minor units"
        )
    bad = sum(statements - reconciled for _, statements, reconciled, _ in cards)
    if bad:
        print(f"{bad} statement(s) do not reconcile")
        return 1
    print("Every statement reconciles with the ledger to the tiyin.")
    return 0
