"""Deposits: the "Standart" soum deposit and a USD deposit, with every operation on them.

Interest is capitalised monthly on the opening day-of-month: balance x annual rate x days / 365,
rounded half-up to the minor unit (integer arithmetic). Top-ups only in the first 12 months (6 for
USD); partial withdrawals never take the balance below the product minimum.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from trastpay_sandbox.world.clock import DAY, add_months, date_day, day_date, fmt_ts, local_day
from trastpay_sandbox.world.entities import EntityBuilder
from trastpay_sandbox.world.money import div_half_up, fmt_minor
from trastpay_sandbox.world.records import Entity
from trastpay_sandbox.world.rng import digits, stable_token


@dataclass(frozen=True)
class DepositProduct:
    name: str
    currency: str
    currency_digits: str
    term_months: int
    rate_bp: int
    minimum_minor: int
    top_up_months: int


STANDART = DepositProduct("Standart", "UZS", "000", 24, 2100, 500_000 * 100, 12)
USD_PRODUCT = DepositProduct("Trast Dollar", "USD", "840", 12, 500, 100 * 100, 6)
"""Synthetic guess: the USD product's name, 5 % rate and 100 USD minimum are not public facts."""


def build_deposits(b: EntityBuilder) -> None:
    rng = b.rng("deposits")
    plans: list[DepositProduct] = [STANDART] * rng.choice((0, 1, 1, 2))
    if b.usd_card() is not None and rng.random() < 0.5:
        plans.append(USD_PRODUCT)
    for index, product in enumerate(plans):
        opened = b.random_instant(rng, hi=b.start + (b.end - b.start) // 2)
        _one_deposit(b, rng, index, product, opened)


def _operation(
    b: EntityBuilder,
    deposit: Entity,
    record: dict[str, Any],
    at: int,
    op_type: str,
    amount: int,
    number: int,
    product: DepositProduct,
) -> bool:
    balance = record["balance_minor"] + amount
    op_id = f"{deposit.pk}_{number:03d}"
    op = b.entity("deposit_operations", op_id, parent=deposit.pk)
    if not b.version(
        op,
        at,
        {
            "id": op_id,
            "deposit_id": deposit.pk,
            "occurred_at": fmt_ts(at),
            "type": op_type,
            "amount_minor": amount,
            "amount": fmt_minor(amount),
            "currency": product.currency,
            "balance_after_minor": balance,
        },
        "deposit.operation",
        {"type": op_type, "amount_minor": amount, "balance_after_minor": balance},
    ):
        return False
    record.update(balance_minor=balance, balance=fmt_minor(balance), updated_at=fmt_ts(at))
    if op_type == "interest":
        record["interest_paid_minor"] += amount
    if op_type == "closure":
        record["status"] = "closed"
    event = "deposit.opened" if op_type == "opening" else "deposit.operation"
    return b.version(
        deposit, at, record, event, {"type": op_type, "balance_minor": balance, "status": record["status"]}
    )


def _one_deposit(
    b: EntityBuilder, rng: random.Random, index: int, product: DepositProduct, opened: int
) -> None:
    deposit_id = stable_token("dep_", b.seed, b.customer_id, "deposit", index, length=14)
    open_date = day_date(local_day(opened))
    maturity = add_months(open_date, product.term_months)
    unit = 100 if product.currency == "UZS" else 1
    amount = max(product.minimum_minor, rng.randrange(1, 40) * (1_000_000 if unit == 100 else 100) * 100)
    account = "20206" + product.currency_digits + digits(rng, 1) + digits(rng, 11)
    record: dict[str, Any] = {
        "id": deposit_id,
        "product": product.name,
        "currency": product.currency,
        "opened_at": fmt_ts(opened),
        "maturity_date": maturity.isoformat(),
        "term_months": product.term_months,
        "annual_rate": f"{product.rate_bp // 100}.{product.rate_bp % 100:02d}",
        "minimum_balance_minor": product.minimum_minor,
        "balance_minor": 0,
        "balance": fmt_minor(0),
        "interest_paid_minor": 0,
        "status": "active",
        "updated_at": fmt_ts(opened),
        "account_number": account,
    }
    deposit = b.entity("deposits", deposit_id)
    events: list[tuple[int, str, int]] = [(opened, "opening", amount)]
    top_up_end = date_day(add_months(open_date, product.top_up_months))
    for _ in range(rng.choice((0, 1, 2, 3))):
        day = rng.randrange(local_day(opened) + 1, top_up_end)
        events.append(
            (
                b.daytime(rng, day),
                "replenishment",
                rng.randrange(1, 10) * (500_000 if unit == 100 else 50) * 100,
            )
        )
    withdrawals = [
        b.daytime(rng, rng.randrange(local_day(opened) + 30, date_day(maturity) - 1))
        for _ in range(rng.choice((0, 0, 1, 2)))
    ]
    events.extend((at, "partial_withdrawal", 0) for at in withdrawals)
    previous = open_date
    for month in range(1, product.term_months + 1):
        due = add_months(open_date, month)
        events.append(
            (date_day(due) * DAY - 18_000 + 2 * 3600 + 60 * month % 3600, "interest", (due - previous).days)
        )
        previous = due
    events.sort(key=lambda e: (e[0], e[1] != "opening"))
    for number, (at, op_type, value) in enumerate(events):
        balance = record["balance_minor"]
        if op_type == "interest":
            value = div_half_up(balance * product.rate_bp * value, 10_000 * 365)
        elif op_type == "partial_withdrawal":
            room = balance - product.minimum_minor
            if room < 100 * unit:
                continue
            value = -max(unit, rng.randrange(1, 10) * room // 10 // (100 * unit) * 100 * unit)
        if not _operation(b, deposit, record, at, op_type, value, number, product):
            return
    matured = date_day(maturity) * DAY - 18_000 + 2 * 3600 + 3000
    record.update(status="matured", updated_at=fmt_ts(matured))
    if not b.version(deposit, matured, record, "deposit.operation", {"status": "matured"}):
        return
    closed = matured + rng.randrange(1, 3 * DAY)
    _operation(b, deposit, record, closed, "closure", -record["balance_minor"], len(events), product)
