"""Card records, monthly statements and statement exports, all read off the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from trastpay_sandbox.world.card_activity import Tx
from trastpay_sandbox.world.cards import CardSpec
from trastpay_sandbox.world.clock import (
    date_day,
    day_date,
    day_start,
    fmt_ts,
    local_day,
    month_first_day,
    next_month,
)
from trastpay_sandbox.world.ledger import Ledger
from trastpay_sandbox.world.money import fmt_minor


@dataclass(frozen=True)
class StatementExport:
    """A statement over inclusive Tashkent days; ``entries`` carry signed amounts (commission folded
    in) and the running balance, so ``opening + credits - debits == closing``."""

    card: dict[str, Any]
    from_date: date
    to_date: date
    currency: str
    opening_balance_minor: int
    closing_balance_minor: int
    debit_total_minor: int
    credit_total_minor: int
    entries: list[dict[str, Any]]


def card_status(card: CardSpec, virtual_status: str | None) -> str:
    if virtual_status is None or virtual_status == "active":
        return "active"
    return "blocked"


def card_record(card: CardSpec, ledger: Ledger, data: Any, now: int) -> dict[str, Any]:
    """The ``cards`` stream record: ``balance_minor`` is the ledger balance at ``now``."""
    plan = ledger.store.plans[card.token]
    totals = ledger.window(card.token, day_start(plan.first_day), now + 1, now)
    updated = max(card.linked_at, totals.last)
    virtual_status = None
    entity = data.virtual_entities.get(card.token)
    if entity is not None:
        version = entity.at(now)
        if version is not None:
            virtual_status = version.record["status"]
            updated = max(updated, version.at)
    return {
        "card_token": card.token,
        "pan_masked": card.pan_masked,
        "bin": card.bin,
        "rail": card.rail,
        "currency": card.currency,
        "bank_name": card.bank_name,
        "bank_mfo": card.bank_mfo,
        "holder_name": card.holder_name,
        "expiry_month": card.expiry_month,
        "status": card_status(card, virtual_status),
        "is_virtual": card.is_virtual,
        "is_trastbank": card.is_trastbank,
        "balance_minor": card.opening_balance_minor + totals.net,
        "linked_at": fmt_ts(card.linked_at),
        "updated_at": fmt_ts(updated),
    }


def month_statements(card: CardSpec, ledger: Ledger, now: int) -> list[dict[str, Any]]:
    """One statement per month from the card's first active month to the month holding ``now``."""
    plan = ledger.store.plans[card.token]
    first = day_date(plan.first_day)
    year, month = first.year, first.month
    last = day_date(local_day(now))
    opening = card.opening_balance_minor
    out: list[dict[str, Any]] = []
    while (year, month) <= (last.year, last.month):
        ny, nm = next_month(year, month)
        start, end = day_start(month_first_day(year, month)), day_start(month_first_day(ny, nm))
        totals = ledger.window(card.token, start, end, now)
        closing = opening + totals.net
        final = end <= now
        out.append(
            {
                "card_token": card.token,
                "month": f"{year:04d}-{month:02d}",
                "period_start": fmt_ts(start),
                "period_end": fmt_ts(end),
                "currency": card.currency,
                "opening_balance_minor": opening,
                "closing_balance_minor": closing,
                "debit_total_minor": totals.debit,
                "credit_total_minor": totals.credit,
                "commission_total_minor": totals.commission,
                "opening_balance": fmt_minor(opening),
                "closing_balance": fmt_minor(closing),
                "entry_count": totals.count,
                "is_final": final,
                "updated_at": fmt_ts(end if final else max(start, totals.last)),
            }
        )
        opening = closing
        year, month = ny, nm
    return out


def statement_export(
    card_record_: dict[str, Any], card: CardSpec, ledger: Ledger, from_date: date, to_date: date, now: int
) -> StatementExport:
    start, end = day_start(date_day(from_date)), day_start(date_day(to_date) + 1)
    opening = ledger.balance_before(card.token, start, now)
    descriptions: dict[str, str] = {}
    plan = ledger.store.plans[card.token]
    for tx_day in range(
        max(local_day(start) - 5, plan.first_day), min(local_day(end - 1), plan.last_day) + 1
    ):
        for tx in ledger.store.day(card.token, tx_day):
            descriptions[tx.id] = _describe(tx)
    balance, debit, credit = opening, 0, 0
    entries = []
    for booked_at, tx_id, delta, commission, reversal in ledger.bookings(card.token, start, end, now):
        balance += delta
        if delta < 0:
            debit -= delta
        else:
            credit += delta
        text = descriptions.get(tx_id, "")
        entries.append(
            {
                "booked_at": fmt_ts(booked_at),
                "transaction_id": tx_id,
                "description": f"Reversal: {text}" if reversal else text,
                "amount_minor": delta,
                "commission_minor": commission,
                "balance_after_minor": balance,
            }
        )
    return StatementExport(
        card=card_record_,
        from_date=from_date,
        to_date=to_date,
        currency=card.currency,
        opening_balance_minor=opening,
        closing_balance_minor=balance,
        debit_total_minor=debit,
        credit_total_minor=credit,
        entries=entries,
    )


def _describe(tx: Tx) -> str:
    return tx.description
