"""Card-to-card transfers and their commission tiers, exact in tiyin.

Tiers (DOMAIN.md): HUMO->HUMO 0 %, HUMO->UZCARD 0.25 %, UZCARD->HUMO 0.4 %, Trastbank UZCARD ->
another bank's HUMO 0.25 %, UZCARD->UZCARD 0.4 %. Commission = amount x rate rounded half-up to the
tiyin with integer arithmetic (152,000.00 UZS at 0.25 % = 380.00 UZS).

Monthly allowance: Trastbank cardholders may send up to 10,000,000 UZS a month commission-free in
Trastpay (the bank's announcement). How a transfer that crosses the limit is charged is not
published; our rule: transfers from Trastbank-issued cards are free while the month's running total
of such transfers, this one included, stays within the allowance, and one that would cross it pays
its full tier commission. Failed transfers do not count.

``commission_quoted_minor`` is what the sender was quoted when the transfer was created (after the
allowance); ``commission_minor`` is what was charged: the quote while processing and once completed,
0 for a failed transfer, which charges nothing.
"""

from __future__ import annotations

from typing import Any

from trastpay_sandbox.world.clock import DAY, fmt_ts, month_of_day
from trastpay_sandbox.world.entities import EntityBuilder, make_tx
from trastpay_sandbox.world.money import apply_rate_bp, fmt_minor, rate_fraction
from trastpay_sandbox.world.rng import stable_token

FREE_MONTHLY_ALLOWANCE_MINOR = 10_000_000 * 100
TIER_BASIS_POINTS = {
    "HUMO_TO_HUMO": 0,
    "HUMO_TO_UZCARD": 25,
    "UZCARD_TO_HUMO": 40,
    "TRASTBANK_UZCARD_TO_OTHER_HUMO": 25,
    "UZCARD_TO_UZCARD": 40,
}
FAILURE_REASONS = ("Receiver card blocked", "Receiver card expired", "Processing timeout", "Limit exceeded")


def commission_tier(
    sender_rail: str, sender_is_trastbank: bool, receiver_rail: str, receiver_is_trastbank: bool
) -> str:
    if sender_rail == "HUMO":
        return "HUMO_TO_HUMO" if receiver_rail == "HUMO" else "HUMO_TO_UZCARD"
    if receiver_rail == "HUMO":
        if sender_is_trastbank and not receiver_is_trastbank:
            return "TRASTBANK_UZCARD_TO_OTHER_HUMO"
        return "UZCARD_TO_HUMO"
    return "UZCARD_TO_UZCARD"


def commission_minor(amount_minor: int, tier: str) -> int:
    """The tier's commission on ``amount_minor``, half-up to the tiyin."""
    return apply_rate_bp(amount_minor, TIER_BASIS_POINTS[tier])


def build_transfers(b: EntityBuilder) -> None:
    rng = b.rng("transfers")
    senders = [c for c in b.soum_cards() if c.rail in ("UZCARD", "HUMO")]
    if not senders:
        return
    count = b.count(rng, b.monthly_rate * 20 / 35)
    instants = sorted(b.random_instant(rng) for _ in range(count))
    used: dict[tuple[int, int], int] = {}
    for index, created in enumerate(instants):
        sender = senders[0] if rng.random() < 0.7 else rng.choice(senders)
        receiver = b.contacts[min(int(rng.paretovariate(1.2)) - 1, len(b.contacts) - 1)]
        amount = max(10_000, round(300_000 * rng.lognormvariate(0.0, 0.9) / 1000) * 1000) * 100
        failed = rng.random() < 0.02
        tier = commission_tier(sender.rail, sender.is_trastbank, receiver.rail, receiver.is_trastbank)
        commission = commission_minor(amount, tier)
        free = False
        month = month_of_day((created + 18_000) // DAY)
        if sender.is_trastbank and not failed:
            running = used.get(month, 0) + amount
            if running <= FREE_MONTHLY_ALLOWANCE_MINOR:
                used[month] = running
                free = commission > 0
                commission = 0
        transfer_id = stable_token("trf_", b.seed, b.customer_id, "transfer", index, length=14)
        record: dict[str, Any] = {
            "id": transfer_id,
            "created_at": fmt_ts(created),
            "updated_at": fmt_ts(created),
            "completed_at": None,
            "status": "processing",
            "failure_reason": None,
            "sender_card_token": sender.token,
            "sender_pan_masked": sender.pan_masked,
            "sender_rail": sender.rail,
            "sender_bank": sender.bank_name,
            "receiver_pan_masked": receiver.pan_masked,
            "receiver_rail": receiver.rail,
            "receiver_bank": receiver.bank,
            "receiver_name": receiver.name,
            "amount_minor": amount,
            "amount": fmt_minor(amount),
            "currency": "UZS",
            "commission_tier": tier,
            "commission_rate": rate_fraction(TIER_BASIS_POINTS[tier]),
            "commission_quoted_minor": commission,
            "commission_minor": commission,
            "commission": fmt_minor(commission),
            "free_limit_applied": free,
            "total_minor": amount + commission,
            "total": fmt_minor(amount + commission),
        }
        entity = b.entity("transfers", transfer_id)
        summary = {"amount_minor": amount, "currency": "UZS", "commission_minor": commission}
        if not b.version(entity, created, record, "transfer.created", {**summary, "status": "processing"}):
            continue
        done = created + rng.randrange(3, 90 if not failed else 600)
        reason = rng.choice(FAILURE_REASONS) if failed else None
        record.update(
            updated_at=fmt_ts(done),
            status="failed" if failed else "completed",
            completed_at=None if failed else fmt_ts(done),
            failure_reason=reason,
        )
        if failed:
            record.update(commission_minor=0, commission=fmt_minor(0))
            record.update(total_minor=amount, total=fmt_minor(amount))
            summary["commission_minor"] = 0
        b.version(
            entity, done, record, f"transfer.{record['status']}", {**summary, "status": record["status"]}
        )
        b.card_tx(
            sender,
            make_tx(
                created,
                f"tx_{transfer_id}",
                "p2p_out",
                -amount,
                f"Transfer to card {receiver.pan_masked}",
                commission=commission,
                declined=failed,
                counterparty=receiver,
                decline_reason=reason,
                tier=tier,
            ),
        )
