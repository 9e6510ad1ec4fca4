"""VISA cards, MCCs that match their ISO 18245 categories, plausible amounts abroad (issue 18, item 3)."""

from __future__ import annotations

import pytest

from trastpay_sandbox.world import SandboxSettings, World
from trastpay_sandbox.world.cards import TRASTBANK_VISA_BIN
from trastpay_sandbox.world.merchants import USD_CATEGORIES
from trastpay_sandbox.world.payments import ABROAD_PURCHASE_MAJOR, abroad_amount_minor

EXPECTED_MCC = {
    "Amazon": "5399",
    "AliExpress": "5399",
    "Apple.com": "5818",
    "Netflix": "5818",
    "Turkish Airlines": "4511",
    "Uzbekistan Airways": "4511",
    "Booking.com": "7011",
}


def test_given_usd_categories_when_reading_mccs_then_each_merchant_sits_in_its_iso_18245_category() -> None:
    found = {name: category.mcc for category in USD_CATEGORIES for name, _ in category.merchants}

    assert {name: found[name] for name in EXPECTED_MCC} == EXPECTED_MCC


def test_given_a_world_when_listing_usd_cards_then_both_brands_and_visa_uses_trastbanks_bin() -> None:
    world = World(SandboxSettings(seed=7, customers=30, history_days=30))
    usd = [
        c
        for cu in world.customers()
        for c in world.cards(cu.id)
        if c["currency"] == "USD" and not c["is_virtual"]
    ]

    assert {c["rail"] for c in usd} == {"VISA", "MASTERCARD"}
    assert all(c["bin"] == TRASTBANK_VISA_BIN for c in usd if c["rail"] == "VISA")


@pytest.mark.parametrize("ccy", sorted(ABROAD_PURCHASE_MAJOR))
def test_given_any_draw_when_sizing_a_purchase_abroad_then_within_the_currencys_range(ccy: str) -> None:
    low, high = ABROAD_PURCHASE_MAJOR[ccy]
    amounts = [abroad_amount_minor(ccy, u / 100) for u in range(100)]

    assert min(amounts) >= low * 100
    assert max(amounts) <= high * 100
    assert amounts == sorted(amounts)
