from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

import pytest

from trastpay_sandbox.world import SandboxSettings, World
from trastpay_sandbox.world.cards import luhn_check_digit, luhn_valid, mask_pan, masked_pan_for


def test_given_known_pan_when_checking_luhn_then_valid_and_masked_to_first6_last4() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert luhn_check_digit("860030123456789") == "8"
    assert luhn_valid("8600301234567898")
    assert mask_pan("8600301234567898") == "860030******7898"


def test_given_generated_cards_when_masking_then_only_first6_and_last4_survive() -> None:
    rng = random.Random(1)
    for _ in range(200):
        masked = masked_pan_for(rng, "986018")
        assert masked.startswith("986018******")
        assert len(masked) == 16
        assert masked[-4:].isdigit()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"customers": 0}, "customers"),
        ({"transactions": -1}, "transactions"),
        ({"history_days": 0}, "history_days"),
        ({"clock_start": datetime(2026, 1, 1)}, "offset"),
        ({"cache_bytes": -5}, "cache_bytes"),
        ({"cards_per_customer": 0}, "cards_per_customer"),
        ({"cards_per_customer": 201}, "cards_per_customer"),
    ],
)
def test_given_bad_settings_when_building_then_error_names_the_field(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SandboxSettings(**overrides)  # type: ignore[arg-type]


def test_given_card_transactions_when_counting_events_then_one_event_per_transition(world: World) -> None:
    customer = world.customers()[4]
    expected = 0
    for item in world.truth(customer.id, "card_transactions"):
        if item["status"] == "declined":
            expected += 1
            continue
        expected += 1
        if item["posted_at"] is not None and item["posted_at"] != item["occurred_at"]:
            expected += 1
        if item["reversed_at"] is not None:
            expected += 1
    events = [e for e in world.truth(customer.id, "events") if e["resource_type"] == "card_transactions"]
    assert len(events) == expected


def test_given_cashback_when_purchases_post_or_reverse_then_accruals_and_reversals_match(
    world: World,
) -> None:
    for customer in world.customers():
        transactions = {t["id"]: t for t in world.truth(customer.id, "card_transactions")}
        for entry in world.truth(customer.id, "cashback_ledger"):
            source = transactions[entry["source_transaction_id"]]
            assert source["type"] == "purchase"
            assert entry["base_amount_minor"] == -source["amount_minor"]
            assert 0 < float(entry["rate"]) <= 0.02
            if entry["type"] == "accrual":
                assert entry["occurred_at"] == source["posted_at"]
                assert entry["amount_minor"] > 0
            else:
                assert entry["occurred_at"] == source["reversed_at"]
                assert entry["amount_minor"] < 0


def test_given_cards_per_customer_when_building_then_every_customer_links_exactly_that_many_soum_cards(
    make_world: Callable[..., World],
) -> None:
    world = make_world(customers=2, cards_per_customer=50, history_days=30, transactions=5_000)
    for customer in world.customers():
        physical = [card for card in world.truth(customer.id, "cards") if not card["is_virtual"]]
        assert len(physical) == 50
        assert {card["currency"] for card in physical} == {"UZS"}
        assert len({card["card_token"] for card in physical}) == 50
        with_activity = {item["card_token"] for item in world.truth(customer.id, "card_transactions")}
        assert len(with_activity) >= 45
