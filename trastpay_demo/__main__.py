"""``make demo``: sandbox -> Airbyte source (PyAirbyte) -> DuckDB, twice, then a summary and a truth check."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from trastpay_demo.summary import (
    commission_by_tier,
    compare_with_truth,
    format_minor,
    start_instant,
    table_counts,
    turnover_by_rail,
)

DEVICE_ID = "demo-laptop-01"
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
    from trastpay_demo.pyairbyte_sync import RotatingConfig, open_warehouse, sync
    from trastpay_sandbox.testing import SandboxServer

    if args.warehouse.exists():
        args.warehouse.unlink()
    with SandboxServer(customers=args.customers, seed=args.seed) as server:
        customer = server.customers()[0]
        phone = customer["phone"]
        print(f"Sandbox serving the Trastpay API at {server.api_url}")
        print(f"Customers: {', '.join(c['phone'] for c in server.customers())}; syncing {phone}")
        tokens = server.login(phone, device_id=DEVICE_ID, client_id=CLIENT_ID)
        config = RotatingConfig(
            {
                "base_url": server.api_url,
                "client_id": CLIENT_ID,
                "device_id": DEVICE_ID,
                "refresh_token": tokens["refresh_token"],
                "start_date": args.start_date,
            }
        )
        started = time.monotonic()
        print("\n== Full sync through PyAirbyte (source-trastpay) into DuckDB ==")
        first = sync(config, args.warehouse)
        print(f"\n== Sandbox clock advanced by {args.advance}; incremental sync ==")
        server.advance(args.advance)
        second = sync(config, args.warehouse)
        elapsed = time.monotonic() - started
        print(
            f"\nRead {first} + {second} records in {elapsed:.1f} s; refresh token rotated {config.rotations}x"
        )

        connection = open_warehouse(args.warehouse)
        try:
            return report(
                connection, lambda stream: server.truth(stream, phone), start_instant(args.start_date)
            )
        finally:
            connection.close()


def report(connection: Any, truth_for: Callable[[str], Iterable[Mapping[str, Any]]], since: datetime) -> int:
    schema = "trastpay"
    print(f"\n{'stream':<24}{'rows':>10}")
    for name, count in table_counts(connection, schema).items():
        print(f"{name:<24}{count:>10}")
    print("\nTurnover of posted card operations by rail")
    for rail, currency, count, turnover in turnover_by_rail(connection, schema):
        print(f"  {rail:<11}{currency:<4}{count:>7} ops  {format_minor(turnover, currency):>26}")
    print("\nCard-to-card commission by tier (completed transfers)")
    for tier, count, amount, commission in commission_by_tier(connection, schema):
        print(
            f"  {tier:<32}{count:>5}  sent {format_minor(amount):>22}"
            f"  commission {format_minor(commission):>18}"
        )
    comparisons = compare_with_truth(connection, schema, truth_for, since=since)
    failures = [c for c in comparisons if not c.ok]
    print("\nWarehouse vs sandbox truth (dedup on primary key, every field, *_minor sums to the tiyin)")
    for comparison in comparisons:
        print(f"  {'OK ' if comparison.ok else 'BAD'} {comparison.describe()}")
    if failures:
        print(f"\n{len(failures)} stream(s) differ from the truth", file=sys.stderr)
        return 1
    print("\nAll streams match the sandbox truth.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
