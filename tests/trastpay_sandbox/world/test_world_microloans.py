"""Online microloans as the offer describes them: 12 months, up to 50M UZS, decision codes incl. the
daily limit, and an eligibility answer with the same codes (issue 18, item 2)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from trastpay_sandbox.world import SandboxSettings, World
from trastpay_sandbox.world.clock import DAY, TASHKENT, to_epoch
from trastpay_sandbox.world.eligibility import eligibility, first_instalment, max_amount
from trastpay_sandbox.world.lending import MAX_ONLINE_LOAN_MINOR
from trastpay_sandbox.world.rng import stable_int

INCOME = 20_000_000 * 100
NOW = to_epoch(datetime(2026, 9, 22, 18, 0, tzinfo=TASHKENT))


@pytest.fixture(scope="module")
def world20() -> World:
    return World(SandboxSettings(seed=7, customers=20, history_days=400))


def test_given_a_world_when_loans_are_listed_then_all_12_months_within_50m_and_daily_limit_occurs(
    world20: World,
) -> None:
    codes: Counter[str] = Counter()
    for customer in world20.customers():
        by_day: Counter[str] = Counter()
        for loan in sorted(world20.truth(customer.id, "microloans"), key=lambda x: str(x["applied_at"])):
            assert loan["term_months"] == 12
            assert 0 < loan["requested_amount_minor"] <= MAX_ONLINE_LOAN_MINOR
            day = loan["applied_at"][:10]
            if loan["decision_code"] is not None:
                codes[loan["decision_code"]] += 1
                assert (loan["decision_code"] == "REJECTED_DAILY_LIMIT") == (by_day[day] > 0)
            by_day[day] += 1
            if loan["decision_code"] == "APPROVED":
                assert loan["instalment_minor"] == first_instalment(loan["principal_minor"])
    assert codes["REJECTED_DAILY_LIMIT"] > 0
    assert codes["APPROVED"] > codes["REJECTED_DAILY_LIMIT"]


def _loan(applied_at: str, status: str = "rejected", **extra: Any) -> dict[str, Any]:
    return {"applied_at": applied_at, "status": status, **extra}


def _good_customer(seed: int = 7) -> str:
    return next(f"cus_{n}" for n in range(100) if stable_int(seed, f"cus_{n}", "score") % 100 >= 8)


def test_given_an_application_today_when_checking_eligibility_then_rejected_daily_limit() -> None:
    answer = eligibility(7, _good_customer(), 1_000_000_00, INCOME, [_loan("2026-09-22T09:00:00+05:00")], NOW)

    assert answer["decision_code"] == "REJECTED_DAILY_LIMIT"
    assert answer["eligible"] is False
    assert answer["max_amount_minor"] == 0


def test_given_yesterdays_application_when_checking_then_not_the_daily_limit() -> None:
    answer = eligibility(
        7, _good_customer(), 1_000_000_00, INCOME, [_loan("2026-09-22T09:00:00+05:00")], NOW + DAY
    )

    assert answer["decision_code"] == "APPROVED"
    assert answer["instalment_minor"] == first_instalment(1_000_000_00)
    assert answer["term_months"] == 12


def test_given_a_request_above_8x_income_when_checking_then_income_multiple() -> None:
    answer = eligibility(7, _good_customer(), 50_000_000_00, 5_000_000_00, [], NOW)

    assert answer["decision_code"] == "REJECTED_INCOME_MULTIPLE"
    assert 0 < answer["max_amount_minor"] < 50_000_000_00


def test_given_open_loans_when_instalments_pass_half_the_income_then_dti() -> None:
    open_loan = _loan(
        "2026-01-01T10:00:00+05:00", "active", outstanding_principal_minor=0, instalment_minor=9_800_000_00
    )

    answer = eligibility(7, _good_customer(), 5_000_000_00, INCOME, [open_loan], NOW)

    assert answer["decision_code"] == "REJECTED_DTI"


def test_given_an_income_when_computing_the_ceiling_then_it_passes_and_one_step_more_does_not() -> None:
    ceiling = max_amount(INCOME, 0, 0)

    assert eligibility(7, _good_customer(), ceiling, INCOME, [], NOW)["decision_code"] == "APPROVED"
    if ceiling < MAX_ONLINE_LOAN_MINOR:
        assert eligibility(7, _good_customer(), ceiling + 100_000_00, INCOME, [], NOW)["eligible"] is False


def test_given_rejected_applications_when_their_decision_events_are_read_then_no_plan_and_no_link(
    world20: World,
) -> None:
    rejected = [
        event["data"]
        for customer in world20.customers()
        for event in world20.truth(customer.id, "events")
        if event["type"] == "microloan.decision" and event["data"]["decision_code"] != "APPROVED"
    ]

    assert rejected
    for data in rejected:
        assert data["principal_minor"] is None
        assert data["instalment_plan"] is None
        assert data["schedule_url"] is None
        assert data["term_months"] == 12
