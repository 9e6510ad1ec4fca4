"""Records derived from card transactions, produced per day: their events and cashback entries.

Every transition of a card transaction (authorised, posted, reversed, declined) is one event, and
every eligible posting (and the reversal of one) is one cashback ledger entry. Both are grouped by
the Tashkent day they happen on, so a day of events is built from the six days of operations that
can still change on it.
"""

from __future__ import annotations

from typing import Any

from trastpay_sandbox.world.card_activity import SETTLEMENT_DAYS, Tx
from trastpay_sandbox.world.cards import CardSpec
from trastpay_sandbox.world.clock import fmt_ts, local_day
from trastpay_sandbox.world.money import apply_rate_bp, rate_fraction
from trastpay_sandbox.world.records import make_event

Transition = tuple[int, int, str, Tx]
"""``(at, ordinal, event type, tx)``."""


def transitions(tx: Tx) -> list[Transition]:
    if tx.declined:
        return [(tx.occ, 0, "transaction.declined", tx)]
    if tx.post == tx.occ:
        out: list[Transition] = [(tx.occ, 0, "transaction.posted", tx)]
    else:
        out = [(tx.occ, 0, "transaction.authorized", tx)]
        if tx.post >= 0:
            out.append((tx.post, 1, "transaction.posted", tx))
    if tx.rev >= 0:
        out.append((tx.rev, len(out), "transaction.reversed", tx))
    return out


def split_by_day(txs: list[Tx], tx_day: int) -> list[list[Transition]]:
    """The transitions of one day's operations, bucketed by days after ``tx_day`` (0..5)."""
    buckets: list[list[Transition]] = [[] for _ in range(SETTLEMENT_DAYS + 1)]
    for tx in txs:
        for item in transitions(tx):
            buckets[local_day(item[0]) - tx_day].append(item)
    return buckets


def tx_event(item: Transition, card: CardSpec) -> dict[str, Any]:
    at, ordinal, event_type, tx = item
    status = event_type.split(".")[1]
    data = {
        "status": "pending" if status == "authorized" else status,
        "card_token": card.token,
        "amount_minor": tx.amount,
        "currency": card.currency,
    }
    return make_event(at, "card_transactions", tx.id, ordinal, event_type, data)


def cashback_entry(item: Transition, card: CardSpec) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The cashback entry (and its event) a transition creates, if any."""
    at, _, event_type, tx = item
    if not tx.cashback_bp or event_type not in ("transaction.posted", "transaction.reversed"):
        return None
    reversal = event_type == "transaction.reversed"
    if reversal and tx.post < 0:
        return None  # a hold that expired unposted earned no cashback: there is nothing to reverse
    base = -tx.amount
    accrual = apply_rate_bp(base, tx.cashback_bp)
    entry_id = f"cb_{tx.id[3:]}_{'r' if reversal else 'a'}"
    record = {
        "id": entry_id,
        "occurred_at": fmt_ts(at),
        "type": "reversal" if reversal else "accrual",
        "source_transaction_id": tx.id,
        "card_token": card.token,
        "rate": rate_fraction(tx.cashback_bp),
        "base_amount_minor": base,
        "amount_minor": -accrual if reversal else accrual,
        "currency": card.currency,
    }
    event = make_event(
        at,
        "cashback_ledger",
        entry_id,
        0,
        "cashback.reversed" if reversal else "cashback.accrued",
        {"amount_minor": record["amount_minor"], "currency": card.currency, "card_token": card.token},
    )
    return record, event
