"""Online microloans (annuity schedules, decisions, repayments) and Lendo/inTend instalment plans.

Annuity rule: monthly rate r = annual % / 1200 as an exact fraction; the instalment
A = P r / (1 - (1 + r)^-n) is rounded half-up to the tiyin; each month's interest is the remaining
principal x r rounded half-up, its principal part is A - interest, and the last instalment takes
whatever principal remains, so principal parts sum exactly to P.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from trastpay_sandbox.world.clock import DAY, add_months, date_day, day_date, fmt_ts, local_day
from trastpay_sandbox.world.entities import EntityBuilder, make_tx
from trastpay_sandbox.world.money import apply_rate_bp, div_half_up, fmt_minor, rate_fraction
from trastpay_sandbox.world.records import Entity
from trastpay_sandbox.world.rng import stable_token

LOAN_TERMS = {12: 2800, 24: 2900, 60: 3000}
"""Term in months -> annual rate in basis points (28 %, 29 %, 30 %)."""
MAX_ONLINE_LOAN_MINOR = 50_000_000 * 100
PURPOSES = ("Household appliances", "Education", "Medical expenses", "Home repair", "Wedding", None)
REJECTIONS = ("REJECTED_DTI", "REJECTED_SCORE", "REJECTED_INCOME_MULTIPLE")
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


def build_microloans(b: EntityBuilder) -> None:
    rng = b.rng("microloans")
    card = b.main_card()
    applications = sorted(b.random_instant(rng) for _ in range(rng.choice((1, 2, 2, 3, 4))))
    last_day_applied = -1
    for index, applied in enumerate(applications):
        loan_id = stable_token("mln_", b.seed, b.customer_id, "loan", index, length=14)
        term = 12 if rng.random() < 0.85 else 24
        rate_bp = LOAN_TERMS[term]
        requested = min(MAX_ONLINE_LOAN_MINOR, rng.randrange(30, 501) * 100_000 * 100)
        same_day = local_day(applied) == last_day_applied
        last_day_applied = local_day(applied)
        decision = (
            "REJECTED_DAILY_LIMIT"
            if same_day
            else ("APPROVED" if rng.random() < 0.75 else rng.choice(REJECTIONS))
        )
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
        approved = decision == "APPROVED"
        record.update(
            updated_at=fmt_ts(decided),
            decided_at=fmt_ts(decided),
            decision_code=decision,
            status="approved" if approved else "rejected",
        )
        if approved:
            record.update(
                principal_minor=requested,
                principal=fmt_minor(requested),
                annual_rate=f"{rate_bp // 100}.{rate_bp % 100:02d}",
            )
        if not b.version(
            loan,
            decided,
            record,
            "microloan.decision",
            {"status": record["status"], "decision_code": decision},
        ):
            continue
        if approved:
            _disburse(b, rng, loan, record, card, requested, rate_bp, term, decided)


def _disburse(
    b: EntityBuilder,
    rng: Any,
    loan: Entity,
    record: dict[str, Any],
    card: Any,
    principal: int,
    rate_bp: int,
    term: int,
    decided: int,
) -> None:
    disbursed = decided + rng.randrange(60, 1800)
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
    start = day_date(local_day(disbursed))
    outstanding = principal
    for number, (part, interest) in enumerate(annuity_schedule(principal, rate_bp, term), start=1):
        due = add_months(start, number)
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
