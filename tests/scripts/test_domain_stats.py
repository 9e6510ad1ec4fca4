"""The domain-statistics script on a 100-customer world (seed 7): the figures issue 18 asked for."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from trastpay_sandbox.world.payments import ABROAD_PURCHASE_MAJOR

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "domain_stats.py"


@pytest.fixture(scope="module")
def stats() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--seed", "7", "--customers", "100", "--json"],
        capture_output=True,
        check=True,
        timeout=600,
    )
    document: dict[str, Any] = orjson.loads(done.stdout)
    return document


def test_given_100_customers_when_counting_cards_then_trastbank_visa_usd_cards_exist(
    stats: dict[str, Any],
) -> None:
    visa = {name: n for name, n in stats["cards"].items() if name.startswith("VISA 409784 Trastbank")}

    assert sum(visa.values()) > 0


def test_given_100_customers_when_counting_loans_then_all_12_months_and_daily_limit_rejections(
    stats: dict[str, Any],
) -> None:
    loans = stats["microloans"]

    assert set(loans["terms"]) == {"12"}
    assert loans["decisions"]["REJECTED_DAILY_LIMIT"] > 0
    assert loans["max_requested_minor"] <= 50_000_000_00


def test_given_failed_transfers_when_summing_charged_commission_then_zero(stats: dict[str, Any]) -> None:
    failed = stats["failed_transfers"]

    assert failed["count"] > 0
    assert failed["charged_minor"] == 0
    assert failed["quoted_minor"] > 0


def test_given_tiers_when_reading_charged_rates_then_they_are_the_published_ones(
    stats: dict[str, Any],
) -> None:
    rates = {tier: row["rate_charged"] for tier, row in stats["commission_by_tier"].items()}

    assert rates["HUMO_TO_HUMO"] in ("0.0000%", "n/a")
    assert rates["HUMO_TO_UZCARD"] == "0.2500%"
    assert rates["UZCARD_TO_UZCARD"] == "0.4000%"


def test_given_purchases_abroad_when_reading_amounts_then_plausible_for_each_currency(
    stats: dict[str, Any],
) -> None:
    abroad = stats["abroad_purchases_major"]

    assert set(abroad) == set(ABROAD_PURCHASE_MAJOR)
    for ccy, row in abroad.items():
        low, high = ABROAD_PURCHASE_MAJOR[ccy]
        least, median, most = (Decimal(row[k]) for k in ("min", "median", "max"))
        assert low <= least <= median <= most <= high, ccy
    assert Decimal(abroad["KZT"]["median"]) > 1_000
    assert Decimal(abroad["EUR"]["median"]) < 500
