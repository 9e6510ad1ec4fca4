"""Domain statistics of a sandbox world, so a review of "does it look like Trastbank" is one command.

    .venv/bin/python scripts/domain_stats.py --seed 7 --customers 100
    .venv/bin/python scripts/domain_stats.py --seed 7 --customers 100 --json

Builds the world in-process (no server) as of its clock start and prints: commission rates actually
charged per tier (and what failed transfers were charged), microloan terms, amounts and decision
codes, cashback ratio by MCC, card rails and brands (BINs), and the amounts of purchases abroad by
currency in major units. ``tests/scripts/test_domain_stats.py`` runs it and checks the figures.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from trastpay_sandbox.world import SandboxSettings, World  # noqa: E402


def _major(minor: int) -> str:
    """Minor units as an exact decimal string in major units (no binary float)."""
    return str(Decimal(minor).scaleb(-2))


def _ratio(part: int, whole: int) -> str:
    return "n/a" if whole == 0 else f"{Decimal(part) / Decimal(whole) * 100:.4f}%"


def collect(world: World) -> dict[str, Any]:
    """Every figure of the report, from the world's truth (integers in minor units)."""
    tiers: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    failed = {"count": 0, "charged_minor": 0, "quoted_minor": 0}
    loans: dict[str, Any] = {
        "terms": Counter(),
        "decisions": Counter(),
        "max_requested_minor": 0,
        "max_principal_minor": 0,
        "count": 0,
    }
    brands: Counter[str] = Counter()
    spend: dict[str, int] = defaultdict(int)
    cashback: dict[str, int] = defaultdict(int)
    abroad: dict[str, list[int]] = defaultdict(list)
    for customer in world.customers():
        for transfer in world.truth(customer.id, "transfers"):
            if transfer["status"] == "failed":
                failed["count"] += 1
                failed["charged_minor"] += transfer["commission_minor"]
                failed["quoted_minor"] += transfer["commission_quoted_minor"]
            elif transfer["status"] == "completed":
                row = tiers[transfer["commission_tier"]]
                row["count"] += 1
                row["amount_minor"] += transfer["amount_minor"]
                row["commission_minor"] += transfer["commission_minor"]
                if not transfer["free_limit_applied"]:
                    row["charged_amount_minor"] += transfer["amount_minor"]
                    row["charged_commission_minor"] += transfer["commission_minor"]
                else:
                    row["free_count"] += 1
        for loan in world.truth(customer.id, "microloans"):
            loans["count"] += 1
            loans["terms"][str(loan["term_months"])] += 1
            loans["decisions"][str(loan["decision_code"])] += 1
            loans["max_requested_minor"] = max(loans["max_requested_minor"], loan["requested_amount_minor"])
            loans["max_principal_minor"] = max(loans["max_principal_minor"], loan["principal_minor"] or 0)
        for card in world.cards(customer.id):
            kind = "virtual" if card["is_virtual"] else card["currency"]
            brands[f"{card['rail']} {card['bin']} {card['bank_name']} ({kind})"] += 1
        mcc_of: dict[str, str] = {}
        for tx in world.truth(customer.id, "card_transactions"):
            if tx["type"] == "purchase" and tx["status"] == "posted" and tx["currency"] == "UZS":
                spend[str(tx["mcc"])] += -tx["amount_minor"]
            mcc_of[tx["id"]] = str(tx["mcc"])
        for entry in world.truth(customer.id, "cashback_ledger"):
            cashback[mcc_of.get(entry["source_transaction_id"], "?")] += entry["amount_minor"]
        for fx in world.truth(customer.id, "fx_conversions"):
            if fx["location"] == "abroad":
                abroad[fx["buy_currency"]].append(fx["buy_amount_minor"])
    return {
        "commission_by_tier": {
            tier: {
                **row,
                "rate_charged": _ratio(row["charged_commission_minor"], row["charged_amount_minor"]),
            }
            for tier, row in sorted(tiers.items())
        },
        "failed_transfers": failed,
        "microloans": {**loans, "terms": dict(loans["terms"]), "decisions": dict(loans["decisions"])},
        "cards": dict(sorted(brands.items())),
        "cashback_by_mcc": {
            mcc: {
                "spend_minor": spend[mcc],
                "cashback_minor": cashback.get(mcc, 0),
                "ratio": _ratio(cashback.get(mcc, 0), spend[mcc]),
            }
            for mcc in sorted(spend)
        },
        "abroad_purchases_major": {
            ccy: {
                "count": len(v),
                "min": min(v) / 100,
                "median": sorted(v)[len(v) // 2] / 100,
                "max": max(v) / 100,
            }
            for ccy, v in sorted(abroad.items())
        },
    }


def render(stats: dict[str, Any]) -> str:
    lines = ["Commission actually charged per tier (completed transfers outside the free allowance):"]
    for tier, row in stats["commission_by_tier"].items():
        lines.append(
            f"  {tier:32} {row['rate_charged']:>10}  transfers {row['count']:6}  "
            f"free {row.get('free_count', 0):6}"
        )
    failed = stats["failed_transfers"]
    lines.append(
        f"Failed transfers: {failed['count']}, commission charged {failed['charged_minor']} tiyin "
        f"(quoted {failed['quoted_minor']})"
    )
    loans = stats["microloans"]
    lines.append(
        f"Microloans: {loans['count']}, terms (months) {loans['terms']}, max requested "
        f"{loans['max_requested_minor'] // 100:,} UZS, "
        f"max principal {loans['max_principal_minor'] // 100:,} UZS"
    )
    lines.append(f"  decision codes {loans['decisions']}")
    lines.append("Cards by rail, BIN and bank:")
    lines.extend(f"  {name:48} {count}" for name, count in stats["cards"].items())
    lines.append("Cashback ratio by MCC (soum purchases):")
    lines.extend(
        f"  {mcc:5} {row['ratio']:>10}  spend {row['spend_minor'] // 100:,} UZS"
        for mcc, row in stats["cashback_by_mcc"].items()
    )
    lines.append("Purchases abroad by currency (major units):")
    lines.extend(
        f"  {ccy}  n={row['count']:4}  min {row['min']}  median {row['median']}  max {row['max']}"
        for ccy, row in stats["abroad_purchases_major"].items()
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.customers < 1:
        parser.error("--customers must be >= 1")
    stats = collect(World(SandboxSettings(seed=args.seed, customers=args.customers)))
    if args.json:
        sys.stdout.write(orjson.dumps(stats, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render(stats) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
