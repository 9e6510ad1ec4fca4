from __future__ import annotations

from collections import defaultdict

import pytest

from trastpay_sandbox.world import World
from trastpay_sandbox.world.merchants import (
    OTHER_BANK_ATM_FEE_BP,
    OWN_ATM_SHARE,
    OWN_BANK_ATM,
    SOUM_CATEGORIES,
    pick_atm,
)
from trastpay_sandbox.world.money import apply_rate_bp, div_half_up, fmt_minor
from trastpay_sandbox.world.transfers import (
    FREE_MONTHLY_ALLOWANCE_MINOR,
    TIER_BASIS_POINTS,
    commission_minor,
    commission_tier,
)

from .conftest import statement_items


def test_given_152000_uzs_at_025_percent_when_computing_commission_then_it_is_380_uzs() -> None:
    assert commission_minor(152_000_00, "HUMO_TO_UZCARD") == 380_00
    assert fmt_minor(commission_minor(152_000_00, "TRASTBANK_UZCARD_TO_OTHER_HUMO")) == "380.00"


@pytest.mark.parametrize(
    ("sender", "sender_trastbank", "receiver", "receiver_trastbank", "tier", "basis_points"),
    [
        ("HUMO", True, "HUMO", False, "HUMO_TO_HUMO", 0),
        ("HUMO", False, "UZCARD", True, "HUMO_TO_UZCARD", 25),
        ("UZCARD", False, "HUMO", False, "UZCARD_TO_HUMO", 40),
        ("UZCARD", True, "HUMO", True, "UZCARD_TO_HUMO", 40),
        ("UZCARD", True, "HUMO", False, "TRASTBANK_UZCARD_TO_OTHER_HUMO", 25),
        ("UZCARD", True, "UZCARD", False, "UZCARD_TO_UZCARD", 40),
    ],
)
def test_given_rails_when_choosing_tier_then_domain_table_applies(
    sender: str, sender_trastbank: bool, receiver: str, receiver_trastbank: bool, tier: str, basis_points: int
) -> None:
    assert commission_tier(sender, sender_trastbank, receiver, receiver_trastbank) == tier
    assert TIER_BASIS_POINTS[tier] == basis_points


@pytest.mark.parametrize(
    ("amount", "basis_points", "expected"),
    [(200, 25, 1), (199, 25, 0), (-200, 25, -1), (125, 40, 1), (124, 40, 0), (5_000_000_000, 40, 20_000_000)],
)
def test_given_half_tiyin_when_rounding_then_half_up_with_integers(
    amount: int, basis_points: int, expected: int
) -> None:
    assert apply_rate_bp(amount, basis_points) == expected
    assert isinstance(apply_rate_bp(amount, basis_points), int)


def test_given_division_when_exactly_half_then_rounds_away_from_zero() -> None:
    assert div_half_up(5, 10) == 1
    assert div_half_up(-5, 10) == -1
    assert div_half_up(4, 10) == 0
    with pytest.raises(ValueError, match="denominator"):
        div_half_up(1, 0)


def test_given_transfers_when_listed_then_commission_follows_tier_and_monthly_allowance(world: World) -> None:
    checked = charged = free = failed = 0
    for customer in world.customers():
        cards = {c["card_token"]: c for c in world.cards(customer.id)}
        free_by_month: dict[str, int] = defaultdict(int)
        for transfer in world.truth(customer.id, "transfers"):
            tier_fee = commission_minor(transfer["amount_minor"], transfer["commission_tier"])
            expected_tier = commission_tier(
                transfer["sender_rail"],
                cards[transfer["sender_card_token"]]["is_trastbank"],
                transfer["receiver_rail"],
                transfer["receiver_bank"] == "Trastbank",
            )
            assert transfer["commission_tier"] == expected_tier
            assert transfer["commission_rate"] == f"0.{TIER_BASIS_POINTS[expected_tier]:04d}"
            if transfer["free_limit_applied"]:
                assert transfer["commission_quoted_minor"] == 0
                assert tier_fee > 0
                free += 1
            else:
                assert transfer["commission_quoted_minor"] == tier_fee
            if transfer["status"] == "failed":
                assert transfer["commission_minor"] == 0
                failed += 1
            else:
                assert transfer["commission_minor"] == transfer["commission_quoted_minor"]
                charged += transfer["commission_minor"] > 0
            if transfer["free_limit_applied"]:
                assert cards[transfer["sender_card_token"]]["is_trastbank"]
                assert transfer["status"] != "failed"
                free_by_month[transfer["created_at"][:7]] += transfer["amount_minor"]
            assert transfer["total_minor"] == transfer["amount_minor"] + transfer["commission_minor"]
            assert transfer["total"] == fmt_minor(transfer["total_minor"])
            checked += 1
        assert all(total <= FREE_MONTHLY_ALLOWANCE_MINOR for total in free_by_month.values())
    assert checked > 100
    assert charged > 0
    assert free > 0
    assert failed > 0


def test_given_a_transfer_when_reading_its_card_operation_then_amount_and_commission_agree(
    world: World,
) -> None:
    customer = world.customers()[0]
    transfers = {f"tx_{t['id']}": t for t in world.truth(customer.id, "transfers")}
    matched = 0
    for item in statement_items(world, customer.id, customer.card_tokens[0]):
        transfer = transfers.get(item["id"])
        if transfer is None:
            continue
        matched += 1
        assert item["type"] == "p2p_out"
        assert item["amount_minor"] == -transfer["amount_minor"]
        assert item["status"] == ("declined" if transfer["status"] == "failed" else "posted")
        assert item["commission_minor"] == transfer["commission_minor"]
        assert item["commission_tier"] == transfer["commission_tier"]
        assert item["counterparty_pan_masked"] == transfer["receiver_pan_masked"]
    assert matched > 10


@pytest.mark.parametrize("u", [0.0, 0.3, 0.69, 0.7, 0.7015, 0.85, 0.999])
def test_given_the_cash_atms_in_any_order_when_picking_an_atm_then_only_other_banks_charge_the_fee(
    u: float,
) -> None:
    merchants = SOUM_CATEGORIES[-1].merchants
    for order in (merchants, tuple(reversed(merchants))):
        index, fee_bp = pick_atm(order, u)
        own = order[index][0] == OWN_BANK_ATM

        assert own == (u < OWN_ATM_SHARE)
        assert fee_bp == (0 if own else OTHER_BANK_ATM_FEE_BP)


def test_given_a_cash_category_with_only_the_own_atm_when_picking_then_it_is_free_at_any_draw() -> None:
    only_own = ((OWN_BANK_ATM, False),)

    assert {pick_atm(only_own, u) for u in (0.0, 0.5, 0.99)} == {(0, 0)}


def test_given_cash_withdrawals_when_listed_then_only_other_bank_atms_charge_one_percent(
    world: World,
) -> None:
    charged = free = 0
    for customer in world.customers():
        for token in customer.card_tokens:
            for item in statement_items(world, customer.id, token):
                if item["type"] != "cash_withdrawal" or item["status"] != "posted":
                    continue
                own = item["merchant_name"] == OWN_BANK_ATM
                expected = 0 if own else apply_rate_bp(-item["amount_minor"], OTHER_BANK_ATM_FEE_BP)
                assert item["commission_minor"] == expected, item
                charged += not own
                free += own
    assert charged > 0
    assert free > 0


def test_given_statement_lines_when_read_then_a_tier_exactly_where_a_commission_rule_applies(
    world: World,
) -> None:
    tiers: dict[str, int] = defaultdict(int)
    for customer in world.customers():
        for token in customer.card_tokens:
            for item in statement_items(world, customer.id, token):
                tier = item["commission_tier"]
                if item["id"].startswith("tx_trf_"):
                    assert tier in TIER_BASIS_POINTS
                elif item["type"] == "cash_withdrawal" and item["commission_minor"]:
                    assert tier == "OTHER_BANK_ATM"
                else:
                    assert tier is None
                    assert item["commission_minor"] in (0, None)
                tiers[str(tier)] += 1
    assert tiers["OTHER_BANK_ATM"] > 0
    assert sum(tiers[t] for t in TIER_BASIS_POINTS) > 10
