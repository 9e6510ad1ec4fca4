"""Online microloans (annuity schedules, decisions, repayments) and Lendo/inTend instalment plans.

Annuity rule: monthly rate r = annual % / 1200 as an exact fraction; the instalment
A = P r / (1 - (1 + r)^-n) is rounded half-up to the tiyin; each month's interest is the remaining
principal x r rounded half-up, its principal part is A - interest, and the last instalment takes
whatever principal remains, so principal parts sum exactly to P.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

from trastpay_sandbox.world.clock import DAY, add_months, date_day, day_date, fmt_ts, local_day
from trastpay_sandbox.world.entities import EntityBuilder, make_tx
from trastpay_sandbox.world.money import apply_rate_bp, div_half_up, fmt_minor, rate_fraction
from trastpay_sandbox.world.records import Entity
from trastpay_sandbox.world.rng import stable_int, stable_token

LOAN_TERMS = {12: 2800, 24: 2900, 60: 3000}
"""Trustbank microloan terms in months -> annual rate in basis points (28 %, 29 %, 30 %); the longer
terms are branch products."""
ONLINE_TERM_MONTHS = 12
"""The app's online microloan: up to 50,000,000 UZS for 12 months (the bank's published terms)."""
MAX_ONLINE_LOAN_MINOR = 50_000_000 * 100
SAME_DAY_REAPPLY_SHARE = 0.2
"""Share of applications followed by a second one the same Tashkent day (rejected: at most one
online loan a day per person)."""
LOW_SCORE_PERCENT = 8
"""Share of customers (stable per seed and customer) whose score rejects every application."""
LATER_APPROVAL_SHARE = 0.6
"""Approval odds of a later application (it meets open loans and the income rules)."""
INCOME_REJECTIONS = ("REJECTED_DTI", "REJECTED_INCOME_MULTIPLE")
SCHEDULE_URL = "/api/v1/trastpay/microloan/{loan_id}/schedule"
PURPOSES = ("Household appliances", "Education", "Medical expenses", "Home repair", "Wedding", None)

BNPL_MERCHANTS = ("Texnomart", "Mediapark", "Uzum Market", "Artel", "Idea", "Goodzone")
BNPL_MARKUP_BP = {3: 900, 6: 1800, 9: 2700, 12: 3600}


def _round_fraction(value: Fraction) -> int:
    return div_half_up(value.numerator, value.denominator)


def annuity_schedule(principal: int, annual_rate_bp: int, months: int) -> list[tuple[int, int]]:
    """``(principal part, interest)`` per month; principal parts sum exactly to ``principal``."""
    r = Fraction(annual_rate_bp, 12 * 10_000)
    payment = _round_fraction(principal * r / (1 - (1 + r) ** -months))
    remaining = principal
    rows = []
    for month in range(1, months + 1):
        interest = _round_fraction(remaining * r)
        part = remaining if month == months else min(remaining, payment - interest)
        rows.append((part, interest))
        remaining -= part
    return rows


def _applications(b: EntityBuilder, rng: Any) -> list[int]:
    """Application instants; some followed by a retry the same Tashkent day (minutes to hours later)."""
    out: list[int] = []
    for first in sorted(b.random_instant(rng) for _ in range(rng.choice((1, 2, 2, 3, 4)))):
        out.append(first)
        if rng.random() < SAME_DAY_REAPPLY_SHARE:
            retry = first + rng.randrange(300, 4 * 3600)
            if local_day(retry) == local_day(first):
                out.append(retry)
    return sorted(out)


def instalment_plan(principal: int, rate_bp: int, term: int, disbursed: int) -> list[dict[str, Any]]:
    """The loan's monthly instalments (number, due date, principal, interest, total), due monthly
    from the Tashkent day of disbursement."""
    start = day_date(local_day(disbursed))
    return [
        {
            "instalment_number": number,
            "due_date": add_months(start, number).isoformat(),
            "principal_minor": part,
            "interest_minor": interest,
            "total_minor": part + interest,
        }
        for number, (part, interest) in enumerate(annuity_schedule(principal, rate_bp, term), start=1)
    ]


def decision_payload(record: dict[str, Any], plan: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The ``microloan.decision`` event data: decision code, principal, term, instalment plan and
    the schedule link (the partner offer's webhook); principal, plan and link are null when rejected."""
    approved = plan is not None
    return {
        "status": record["status"],
        "decision_code": record["decision_code"],
        "requested_amount_minor": record["requested_amount_minor"],
        "principal_minor": record["principal_minor"],
        "currency": record["currency"],
        "term_months": record["term_months"],
        "annual_rate": record["annual_rate"],
        "instalment_minor": record["instalment_minor"],
        "instalment_plan": plan,
        "schedule_url": SCHEDULE_URL.format(loan_id=record["id"]) if approved else None,
    }


def _decision(b: EntityBuilder, decisions: Any, index: int, same_day: bool) -> str:
    """Daily limit first, then the customer's score (the same stable score the eligibility answer
    uses), then a first application is approved and a later one meets the income rules at random."""
    if same_day:
        return "REJECTED_DAILY_LIMIT"
    if stable_int(b.seed, b.customer_id, "score") % 100 < LOW_SCORE_PERCENT:
        return "REJECTED_SCORE"
    if index == 0 or decisions.random() < LATER_APPROVAL_SHARE:
        return "APPROVED"
    return str(decisions.choice(INCOME_REJECTIONS))


def build_microloans(b: EntityBuilder) -> None:
    rng = b.rng("microloans")
    decisions = b.rng("microloan-decisions")
    card = b.main_card()
    last_day_applied = -1
    for index, applied in enumerate(_applications(b, rng)):
        loan_id = stable_token("mln_", b.seed, b.customer_id, "loan", index, length=14)
        term = ONLINE_TERM_MONTHS
        rate_bp = LOAN_TERMS[term]
        requested = min(MAX_ONLINE_LOAN_MINOR, rng.randrange(30, 501) * 100_000 * 100)
        same_day = local_day(applied) == last_day_applied
        last_day_applied = local_day(applied)
        decision = _decision(b, decisions, index, same_day)
        record: dict[str, Any] = {
            "id": loan_id,
            "applied_at": fmt_ts(applied),
            "updated_at": fmt_ts(applied),
            "status": "submitted",
            "requested_amount_minor": requested,
            "currency": "UZS",
            "term_months": term,
            "purpose": rng.choice(PURPOSES),
            "decision_code": None,
            "decided_at": None,
            "principal_minor": None,
            "principal": None,
            "annual_rate": None,
            "instalment_minor": None,
            "disbursed_at": None,
            "disbursement_card_token": None,
            "outstanding_principal_minor": None,
            "closed_at": None,
        }
        loan = b.entity("microloans", loan_id)
        if not b.version(
            loan, applied, record, "microloan.applied", {"status": "submitted", "amount_minor": requested}
        ):
            continue
        decided = applied + rng.randrange(30, 900)
        disbursed = decided + rng.randrange(60, 1800)
        approved = decision == "APPROVED"
        record.update(
            updated_at=fmt_ts(decided),
            decided_at=fmt_ts(decided),
            decision_code=decision,
            status="approved" if approved else "rejected",
        )
        plan = instalment_plan(requested, rate_bp, term, disbursed) if approved else None
        if plan is not None:
            record.update(
                principal_minor=requested,
                principal=fmt_minor(requested),
                annual_rate=f"{rate_bp // 100}.{rate_bp % 100:02d}",
                instalment_minor=plan[0]["total_minor"],
            )
        if not b.version(loan, decided, record, "microloan.decision", decision_payload(record, plan)):
            continue
        if plan is not None:
            _disburse(b, rng, loan, record, card, requested, plan, disbursed)


def _disburse(
    b: EntityBuilder,
    rng: Any,
    loan: Entity,
    record: dict[str, Any],
    card: Any,
    principal: int,
    plan: list[dict[str, Any]],
    disbursed: int,
) -> None:
    term = len(plan)
    record.update(
        status="active",
        updated_at=fmt_ts(disbursed),
        disbursed_at=fmt_ts(disbursed),
        disbursement_card_token=card.token,
        outstanding_principal_minor=principal,
    )
    if not b.version(
        loan, disbursed, record, "microloan.disbursed", {"status": "active", "principal_minor": principal}
    ):
        return
    loan_id = loan.pk
    b.card_tx(
        card,
        make_tx(
            disbursed,
            f"tx_{loan_id}_d",
            "p2p_in",
            principal,
            "Microloan disbursement",
            merchant="Trastbank microloan",
        ),
    )
    outstanding = principal
    for instalment in plan:
        number, part, interest = (
            instalment["instalment_number"],
            instalment["principal_minor"],
            instalment["interest_minor"],
        )
        due = date.fromisoformat(instalment["due_date"])
        row = {
            "loan_id": loan_id,
            "instalment_number": number,
            "due_date": due.isoformat(),
            "principal_minor": part,
            "interest_minor": interest,
            "total_minor": part + interest,
            "currency": "UZS",
            "status": "scheduled",
            "paid_at": None,
            "updated_at": fmt_ts(disbursed),
        }
        schedule = b.entity("microloan_schedules", f"{loan_id}:{number}", parent=loan_id)
        b.version(
            schedule,
            disbursed,
            row,
            "microloan.disbursed",
            {"status": "scheduled", "total_minor": part + interest},
        )
        paid = date_day(due) * DAY - 18_000 + 9 * 3600 + rng.randrange(11 * 3600)
        row.update(status="paid", paid_at=fmt_ts(paid), updated_at=fmt_ts(paid))
        if not b.version(
            schedule, paid, row, "microloan.repayment", {"status": "paid", "total_minor": part + interest}
        ):
            continue
        repayment_id = f"{loan_id}_r{number:02d}"
        repayment = b.entity("microloan_repayments", repayment_id, parent=loan_id)
        b.version(
            repayment,
            paid,
            {
                "id": repayment_id,
                "loan_id": loan_id,
                "paid_at": fmt_ts(paid),
                "instalment_number": number,
                "amount_minor": part + interest,
                "principal_minor": part,
                "interest_minor": interest,
                "currency": "UZS",
                "card_token": card.token,
            },
            "microloan.repayment",
            {"amount_minor": part + interest, "instalment_number": number},
        )
        b.card_tx(
            card,
            make_tx(
                paid,
                f"tx_{repayment_id}",
                "loan_repayment",
                -(part + interest),
                f"Microloan repayment {number}/{term}",
                merchant="Trastbank microloan",
            ),
        )
        outstanding -= part
        closing = outstanding == 0
        record.update(
            updated_at=fmt_ts(paid),
            outstanding_principal_minor=outstanding,
            status="closed" if closing else "active",
            closed_at=fmt_ts(paid) if closing else None,
        )
        b.version(
            loan,
            paid,
            record,
            "microloan.closed" if closing else "microloan.repayment",
            {"status": record["status"], "outstanding_principal_minor": outstanding},
        )


def build_instalment_plans(b: EntityBuilder) -> None:
    rng = b.rng("instalments")
    card = b.main_card()
    for index in range(rng.choice((1, 2, 3, 4, 5))):
        created = b.random_instant(rng)
        plan_id = stable_token("bnpl_", b.seed, b.customer_id, "plan", index, length=14)
        term = rng.choice((3, 6, 9, 12))
        purchase = rng.randrange(15, 250) * 100_000 * 100
        markup = apply_rate_bp(purchase, BNPL_MARKUP_BP[term])
        total = purchase + markup
        base, remainder = divmod(total, term)
        amounts = [base + remainder] + [base] * (term - 1)
        provider = rng.choice(("LENDO", "INTEND"))
        start = day_date(local_day(created))
        dues = [add_months(start, n) for n in range(1, term + 1)]
        record: dict[str, Any] = {
            "id": plan_id,
            "provider": provider,
            "merchant_name": rng.choice(BNPL_MERCHANTS),
            "created_at": fmt_ts(created),
            "updated_at": fmt_ts(created),
            "status": "active",
            "term_months": term,
            "purchase_amount_minor": purchase,
            "markup_minor": markup,
            "total_minor": total,
            "currency": "UZS",
            "markup_rate": rate_fraction(BNPL_MARKUP_BP[term]),
            "card_token": card.token,
            "next_due_date": dues[0].isoformat(),
            "paid_minor": 0,
        }
        plan = b.entity("instalment_plans", plan_id)
        if not b.version(
            plan, created, record, "instalment.plan_created", {"status": "active", "total_minor": total}
        ):
            continue
        rows = []
        for number, (due, amount) in enumerate(zip(dues, amounts, strict=True), start=1):
            row: dict[str, Any] = {
                "id": f"{plan_id}_{number:02d}",
                "plan_id": plan_id,
                "instalment_number": number,
                "due_date": due.isoformat(),
                "amount_minor": amount,
                "currency": "UZS",
                "status": "scheduled",
                "paid_at": None,
                "updated_at": fmt_ts(created),
            }
            payment = b.entity("instalment_payments", row["id"], parent=plan_id)
            b.version(
                payment,
                created,
                row,
                "instalment.plan_created",
                {"status": "scheduled", "amount_minor": amount},
            )
            rows.append((payment, row))
        paid_total = 0
        for number, ((payment, row), due) in enumerate(zip(rows, dues, strict=True), start=1):
            paid = date_day(due) * DAY - 18_000 + 9 * 3600 + rng.randrange(11 * 3600)
            row.update(status="paid", paid_at=fmt_ts(paid), updated_at=fmt_ts(paid))
            if not b.version(
                payment, paid, row, "instalment.paid", {"status": "paid", "amount_minor": row["amount_minor"]}
            ):
                break
            paid_total += row["amount_minor"]
            done = number == term
            record.update(
                updated_at=fmt_ts(paid),
                paid_minor=paid_total,
                status="completed" if done else "active",
                next_due_date=None if done else dues[number].isoformat(),
            )
            b.version(
                plan, paid, record, "instalment.paid", {"status": record["status"], "paid_minor": paid_total}
            )
            b.card_tx(
                card,
                make_tx(
                    paid,
                    f"tx_{row['id']}",
                    "loan_repayment",
                    -row["amount_minor"],
                    f"{provider.title()} instalment {number}/{term}",
                    merchant=provider.title(),
                ),
            )
