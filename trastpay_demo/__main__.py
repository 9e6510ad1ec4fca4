"""``make demo``: sandbox -> Airbyte source (PyAirbyte) -> DuckDB, twice, then a summary, a truth check
and ``dbt build`` of the dbt_trastpay package (ledger and statement reconciliation)."""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from trastpay_demo.summary import (
    commission_by_tier,
    compare_with_truth,
    format_minor,
    start_instant,
    sync_audit_summary,
    table_counts,
    turnover_by_rail,
)

DEVICE_ID = "demo-laptop-01"
MELTANO_DEVICE_ID = "demo-meltano-01"
CLIENT_ID = "trastpay-connectors"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m trastpay_demo", description=__doc__)
    parser.add_argument("--warehouse", type=Path, default=Path("warehouse/demo.duckdb"), help="DuckDB file")
    parser.add_argument("--customers", type=int, default=3, help="customers seeded in the sandbox")
    parser.add_argument("--seed", type=int, default=42, help="sandbox seed")
    parser.add_argument(
        "--start-date", default="2025-09-01", help="connector start_date (default: all sandbox history)"
    )
    parser.add_argument("--advance", default="P2D", help="sandbox clock advance between the two syncs")
    args = parser.parse_args(argv)
    if args.customers < 1:
        parser.error("--customers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import duckdb

    from trastpay_demo.meltano_sync import meltano_env, run_meltano, utc_instants
    from trastpay_demo.pyairbyte_sync import RotatingConfig, open_warehouse, sync
    from trastpay_sandbox.login_config import login_config
    from trastpay_sandbox.testing import SandboxServer

    warehouse_dir = args.warehouse.parent
    meltano_warehouse = warehouse_dir / "meltano.duckdb"
    for stale in (args.warehouse, meltano_warehouse, warehouse_dir / "tap-token.json"):
        stale.unlink(missing_ok=True)
    with SandboxServer(customers=args.customers, seed=args.seed) as server:
        phone = server.customers()[0]["phone"]
        print(f"Sandbox serving the Trastpay API at {server.api_url}")
        print(f"Customers: {', '.join(c['phone'] for c in server.customers())}; syncing {phone}")
        airbyte_config = login_config(
            server, phone=phone, device_id=DEVICE_ID, client_id=CLIENT_ID, start_date=args.start_date
        )
        config = RotatingConfig(airbyte_config)
        singer_config = login_config(
            server,
            phone=phone,
            device_id=MELTANO_DEVICE_ID,
            client_id=CLIENT_ID,
            start_date=args.start_date,
            token_store_path=(warehouse_dir / "tap-token.json").resolve(),
        )
        env = meltano_env(singer_config, warehouse=meltano_warehouse.resolve())
        state_suffix = uuid.uuid4().hex[:12]
        started = time.monotonic()
        print("\n== Airbyte: full sync through PyAirbyte (source-trastpay) into DuckDB ==")
        first = sync(config, args.warehouse)
        print("\n== Singer: meltano install, then meltano run tap-trastpay target-duckdb ==")
        run_meltano(env, "install", "--clean")  # the tap wheel may be new under the same version
        run_meltano(env, "run", "--state-id-suffix", state_suffix, "tap-trastpay", "target-duckdb")
        print(f"\n== Sandbox clock advanced by {args.advance}: holds settle, new activity ==")
        server.advance(args.advance)
        print("\n== Airbyte: incremental sync ==")
        second = sync(config, args.warehouse)
        print("\n== Singer: incremental meltano run ==")
        run_meltano(env, "run", "--state-id-suffix", state_suffix, "tap-trastpay", "target-duckdb")
        elapsed = time.monotonic() - started
        print(f"\nAirbyte read {first} + {second} records; all four syncs took {elapsed:.1f} s")

        def truth_for(stream: str) -> list[dict[str, Any]]:
            return server.truth(stream, phone)

        since = start_instant(args.start_date)
        print(f"\n######## Airbyte source via PyAirbyte -> {args.warehouse} ########")
        connection = open_warehouse(args.warehouse)
        try:
            airbyte_failures = report(connection, "trastpay", truth_for, since)
        finally:
            connection.close()
        print(f"\n######## Singer tap via Meltano -> {meltano_warehouse} ########")
        connection = duckdb.connect(str(meltano_warehouse), read_only=True)
        try:
            singer_failures = report(connection, "trastpay", truth_for, since, transform=utc_instants)
        finally:
            connection.close()
    if airbyte_failures or singer_failures:
        print(
            f"\n{airbyte_failures + singer_failures} stream table(s) differ from the truth", file=sys.stderr
        )
        return 1
    print("\nBoth platforms agree with the sandbox truth, stream by stream, to the tiyin.")
    from trastpay_demo.books import build_books

    return build_books(args.warehouse)


def report(
    connection: Any,
    schema: str,
    truth_for: Callable[[str], Iterable[Mapping[str, Any]]],
    since: datetime,
    *,
    transform: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
) -> int:
    """Print counts, turnover, commission and the truth check; return how many streams differ."""
    print(f"\n{'stream':<24}{'rows':>10}")
    for name, count in table_counts(connection, schema).items():
        print(f"{name:<24}{count:>10}")
    print("\nTurnover of posted card operations by rail")
    for rail, currency, count, turnover in turnover_by_rail(connection, schema):
        print(f"  {rail:<11}{currency:<4}{count:>7} ops  {format_minor(turnover, currency):>26}")
    print("\nCard-to-card commission by tier (completed transfers; free = within the monthly allowance)")
    for tier, count, free, amount, commission in commission_by_tier(connection, schema):
        print(
            f"  {tier:<32}{count:>5} ({free:>3} free)  sent {format_minor(amount):>22}"
            f"  commission {format_minor(commission):>18}"
        )
    audits = sync_audit_summary(connection, schema)
    if audits:
        print("\nsync_audit: what each sync read (statement checks: months that add up / that do not)")
        header = f"{'sync started':<27}{'partitions':>11}{'records':>9}{'pages':>7}{'retries':>8}{'late':>6}"
        print(f"  {header}  checks")
        for started, partitions, records, pages, retries, late, checks in audits:
            print(f"  {started:<27}{partitions:>11}{records:>9}{pages:>7}{retries:>8}{late:>6}  {checks}")
    comparisons = compare_with_truth(connection, schema, truth_for, since=since, transform=transform)
    failures = [c for c in comparisons if not c.ok]
    print("\nWarehouse vs sandbox truth (dedup on primary key, every field, *_minor sums to the tiyin)")
    for comparison in comparisons:
        print(f"  {'OK ' if comparison.ok else 'BAD'} {comparison.describe()}")
    return len(failures)


if __name__ == "__main__":
    sys.exit(main())
