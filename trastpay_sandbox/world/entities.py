"""App entities of one customer, generated up front (they are few), and the card operations they cause.

Each generator module (transfers, lending, deposits, payments) receives an :class:`EntityBuilder` and
records every state of every entity as a :class:`~trastpay_sandbox.world.records.Version`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from trastpay_sandbox.world.card_activity import Tx
from trastpay_sandbox.world.cards import CardSpec, Counterparty
from trastpay_sandbox.world.clock import DAY, day_start, local_day
from trastpay_sandbox.world.records import Entity, Version
from trastpay_sandbox.world.rng import rng_for


@dataclass
class EntityResult:
    entities: dict[str, list[Entity]] = field(default_factory=dict)
    card_txs: dict[str, dict[int, list[Tx]]] = field(default_factory=dict)
    virtual_cards: list[CardSpec] = field(default_factory=list)
    saved_invoices: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@dataclass
class EntityBuilder:
    """Shared context of one customer's entity generators."""

    seed: int
    customer_id: str
    holder: str
    cards: list[CardSpec]
    contacts: tuple[Counterparty, ...]
    first_day: int
    last_day: int
    monthly_rate: float
    result: EntityResult = field(default_factory=EntityResult)

    @property
    def start(self) -> int:
        return day_start(self.first_day)

    @property
    def end(self) -> int:
        """Exclusive end of the world's lifetime; nothing happens at or after it."""
        return day_start(self.last_day + 1)

    def rng(self, purpose: str) -> random.Random:
        return rng_for(self.seed, purpose, self.customer_id)

    def soum_cards(self) -> list[CardSpec]:
        return [c for c in self.cards if c.currency == "UZS" and not c.is_virtual]

    def main_card(self) -> CardSpec:
        return self.cards[0]

    def usd_card(self) -> CardSpec | None:
        return next((c for c in self.cards if c.currency == "USD" and not c.is_virtual), None)

    def daytime(self, rng: random.Random, day: int, first_hour: int = 8, last_hour: int = 22) -> int:
        """An instant on ``day`` between ``first_hour``:00 and ``last_hour``:59 Tashkent."""
        return day_start(day) + first_hour * 3600 + rng.randrange((last_hour - first_hour + 1) * 3600)

    def random_instant(self, rng: random.Random, lo: int | None = None, hi: int | None = None) -> int:
        lo_day = local_day(self.start if lo is None else lo)
        hi_day = local_day((self.end if hi is None else hi) - 1)
        return self.daytime(rng, rng.randint(lo_day, max(lo_day, hi_day)))

    def entity(self, stream: str, pk: str, parent: str | None = None) -> Entity:
        entity = Entity(stream, pk, parent)
        self.result.entities.setdefault(stream, []).append(entity)
        return entity

    def version(
        self,
        entity: Entity,
        at: int,
        record: dict[str, Any],
        event_type: str,
        data: dict[str, Any],
        cursor: int | None = None,
    ) -> bool:
        """Add a state (a copy of ``record``) unless it falls after the world's end; False if dropped."""
        if at >= self.end:
            return False
        entity.add(Version(at, dict(record), at if cursor is None else cursor, event_type, data))
        return True

    def card_tx(self, card: CardSpec, tx: Tx) -> None:
        if tx.occ >= self.end:
            return
        self.result.card_txs.setdefault(card.token, {}).setdefault(local_day(tx.occ), []).append(tx)

    def months(self) -> float:
        return (self.last_day - self.first_day) / 30.44

    def count(self, rng: random.Random, per_month: float) -> int:
        expected = per_month * self.months()
        return max(0, round(expected * (0.8 + 0.4 * rng.random())))


def make_tx(
    occ: int,
    tx_id: str,
    tx_type: str,
    amount: int,
    description: str,
    *,
    commission: int = 0,
    post: int | None = None,
    rev: int = -1,
    declined: bool = False,
    merchant: str | None = None,
    mcc: str | None = None,
    city: str | None = None,
    counterparty: Counterparty | None = None,
    decline_reason: str | None = None,
    tier: str | None = None,
) -> Tx:
    """A card operation caused by an entity: posted at once unless told otherwise."""
    return Tx(
        occ,
        tx_id,
        tx_type,
        amount,
        0 if declined else commission,
        -1 if declined else (occ if post is None else post),
        rev,
        declined,
        None,
        mcc,
        merchant,
        city,
        None if counterparty is None else counterparty.pan_masked,
        None if counterparty is None else counterparty.name,
        None if counterparty is None else counterparty.bank,
        description,
        decline_reason if declined else None,
        0,
        tier,
    )


__all__ = ["DAY", "EntityBuilder", "EntityResult", "make_tx"]
