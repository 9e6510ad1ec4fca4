"""The fast eligibility answer for an online microloan: the same decision codes as the data.

Rules (the regulation as published: debt-to-income at most 50 %; consumer and micro loans together
at most 8x the average monthly income; online loans at most one a day per person), applied to what
the world knows of the customer as of the clock:

* ``REJECTED_DAILY_LIMIT``: the customer already applied on this Tashkent day;
* ``REJECTED_SCORE``: a fixed, seeded share of customers has a low score (a sandbox stand-in for the
  bureau score, which is not public);
* ``REJECTED_INCOME_MULTIPLE``: outstanding microloan principal plus the request exceeds 8x the
  monthly income (salary and advance on the main card);
* ``REJECTED_DTI``: the monthly instalments of open loans plus the new one exceed 50 % of income;
* ``APPROVED`` otherwise. ``max_amount_minor`` is the largest request (100,000 UZS steps, at most
  50,000,000 UZS) that would pass the income rules today; it is 0 when nothing would.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from trastpay_sandbox.world.clock import local_day, to_epoch
from trastpay_sandbox.world.lending import (
    LOAN_TERMS,
    LOW_SCORE_PERCENT,
    MAX_ONLINE_LOAN_MINOR,
    ONLINE_TERM_MONTHS,
    annuity_schedule,
)
from trastpay_sandbox.world.money import fmt_minor
from trastpay_sandbox.world.rng import stable_int

DTI_LIMIT_PERCENT = 50
INCOME_MULTIPLE = 8
STEP_MINOR = 100_000 * 100


def first_instalment(principal: int) -> int:
    """The annuity instalment of a 12-month online microloan of ``principal``."""
    part, interest = annuity_schedule(principal, LOAN_TERMS[ONLINE_TERM_MONTHS], ONLINE_TERM_MONTHS)[0]
    return part + interest


def _open_loans(loans: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """Outstanding principal and monthly instalments of the customer's active loans."""
    outstanding = instalments = 0
    for loan in loans:
        if loan["status"] == "active":
            outstanding += loan["outstanding_principal_minor"] or 0
            instalments += loan["instalment_minor"] or 0
    return outstanding, instalments


def _fits(amount: int, income: int, outstanding: int, instalments: int) -> str | None:
    if outstanding + amount > INCOME_MULTIPLE * income:
        return "REJECTED_INCOME_MULTIPLE"
    if (instalments + first_instalment(amount)) * 100 > DTI_LIMIT_PERCENT * income:
        return "REJECTED_DTI"
    return None


def max_amount(income: int, outstanding: int, instalments: int) -> int:
    """The largest request in 100,000 UZS steps (at most 50M UZS) that passes the income rules."""
    low, high = 0, MAX_ONLINE_LOAN_MINOR // STEP_MINOR
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(middle * STEP_MINOR, income, outstanding, instalments) is None:
            low = middle
        else:
            high = middle - 1
    return low * STEP_MINOR


def eligibility(
    seed: int,
    customer_id: str,
    amount_minor: int,
    monthly_income_minor: int,
    loans: Sequence[Mapping[str, Any]],
    now: int,
) -> dict[str, Any]:
    """The eligibility answer for a request of ``amount_minor`` as of ``now`` (epoch seconds)."""
    outstanding, instalments = _open_loans(loans)
    today = local_day(now)
    applied_today = any(
        local_day(to_epoch(datetime.fromisoformat(loan["applied_at"]))) == today
        for loan in loans
        if loan.get("applied_at")
    )
    if applied_today:
        code: str | None = "REJECTED_DAILY_LIMIT"
    elif stable_int(seed, customer_id, "score") % 100 < LOW_SCORE_PERCENT:
        code = "REJECTED_SCORE"
    else:
        code = _fits(amount_minor, monthly_income_minor, outstanding, instalments)
    decision = code or "APPROVED"
    approved = decision == "APPROVED"
    ceiling = (
        0
        if code in ("REJECTED_DAILY_LIMIT", "REJECTED_SCORE")
        else max_amount(monthly_income_minor, outstanding, instalments)
    )
    instalment = first_instalment(amount_minor) if approved else None
    return {
        "eligible": approved,
        "decision_code": decision,
        "requested_amount_minor": amount_minor,
        "max_amount_minor": ceiling,
        "max_amount": fmt_minor(ceiling),
        "currency": "UZS",
        "term_months": ONLINE_TERM_MONTHS,
        "annual_rate": f"{LOAN_TERMS[ONLINE_TERM_MONTHS] // 100}.{LOAN_TERMS[ONLINE_TERM_MONTHS] % 100:02d}",
        "instalment_minor": instalment,
    }
