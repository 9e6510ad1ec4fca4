"""Assembling the world up front: customers, cards, entity histories and per-card activity plans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trastpay_sandbox.world import deposits, lending, payments, transfers
from trastpay_sandbox.world.card_activity import make_plan
from trastpay_sandbox.world.card_store import CardStore
from trastpay_sandbox.world.cards import CardSpec, Counterparty, make_cards, make_contacts
from trastpay_sandbox.world.clock import DAY, local_day, to_epoch
from trastpay_sandbox.world.entities import EntityBuilder, EntityResult
from trastpay_sandbox.world.ledger import bookings_of
from trastpay_sandbox.world.people import make_customer_people
from trastpay_sandbox.world.records import Entity, entity_events
from trastpay_sandbox.world.rng import rng_for
from trastpay_sandbox.world.settings import SandboxSettings

HORIZON_DAYS = 730
ENTITY_SHARE = 0.35
"""Share of a customer's operations that come from app entities (transfers, payments, repayments, FX)."""


def build_entities(
    seed: int,
    customer_id: str,
    holder: str,
    cards: list[CardSpec],
    contacts: tuple[Counterparty, ...],
    first_day: int,
    last_day: int,
    monthly_rate: float,
) -> EntityResult:
    """Every app entity of one customer over the world's lifetime; ``monthly_rate`` is the customer's
    operations a month that come from entities (transfers, payments, repayments, FX)."""
    builder = EntityBuilder(
        seed, customer_id, holder, list(cards), contacts, first_day, last_day, monthly_rate
    )
    payments.build_virtual_cards(builder)
    transfers.build_transfers(builder)
    payments.build_utility_payments(builder)
    payments.build_fx_conversions(builder)
    lending.build_microloans(builder)
    lending.build_instalment_plans(builder)
    deposits.build_deposits(builder)
    for entities in builder.result.entities.values():
        entities.sort(key=lambda e: e.pk)
    return builder.result


@dataclass
class CustomerData:
    id: str
    phone: str
    name: str
    first_day: int
    last_day: int
    cards: list[CardSpec]
    entities: dict[str, list[Entity]] = field(default_factory=dict)
    events_by_day: dict[int, list[tuple[int, str, dict[str, Any]]]] = field(default_factory=dict)
    virtual_entities: dict[str, Entity] = field(default_factory=dict)
    saved_invoices: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def monthly_rate(settings: SandboxSettings, customer_id: str) -> float:
    """Operations a month for one customer: 40-90 when realistic, else the requested volume's share."""
    if settings.transactions is None:
        return rng_for(settings.seed, "monthly-rate", customer_id).uniform(40.0, 90.0)
    months = settings.history_days / 30.44
    return settings.transactions / settings.customers / months


def _monthly_outflow_major(result: EntityResult, token: str, first_day: int, last_day: int) -> float:
    """What entity operations take from a card a month on average, in major units (for sizing income)."""
    net = 0
    for day, txs in result.card_txs.get(token, {}).items():
        if first_day <= day <= last_day:
            net += sum(booking[2] for tx in txs for booking in bookings_of(tx))
    months = max(1.0, (last_day - first_day + 1) / 30.44)
    return max(0, -net) / 100 / months


def _quiet_while_frozen(counts: list[int], first_day: int, virtual_cards: list[Entity], token: str) -> None:
    """A frozen virtual card has no activity: zero its counts from the freeze day to the unfreeze day."""
    for entity in virtual_cards:
        if entity.pk != token:
            continue
        for version, following in zip(entity.versions, entity.versions[1:], strict=False):
            if version.record["status"] == "frozen":
                for day in range(local_day(version.at), local_day(following.at) + 1):
                    if 0 <= day - first_day < len(counts):
                        counts[day - first_day] = 0


def build_customers(settings: SandboxSettings, store: CardStore) -> list[CustomerData]:
    start = to_epoch(settings.clock_start)
    history_start = start - settings.history_days * DAY
    first_day = local_day(history_start)
    last_day = local_day(start) + HORIZON_DAYS
    out = []
    for customer_id, person in make_customer_people(settings.seed, settings.customers):
        cards = make_cards(
            settings.seed,
            customer_id,
            person.name,
            history_start,
            start + HORIZON_DAYS * DAY,
            settings.cards_per_customer,
        )
        contacts = tuple(make_contacts(settings.seed, customer_id))
        rate = monthly_rate(settings, customer_id)
        entity_rate = ENTITY_SHARE * min(rate, 90.0)
        result: EntityResult = build_entities(
            settings.seed, customer_id, person.name, cards, contacts, first_day, last_day, entity_rate
        )
        all_cards = cards + result.virtual_cards
        lazy_monthly = max(0.0, rate - entity_rate - 2.0)
        total_weight = sum(c.weight for c in all_cards)
        data = CustomerData(customer_id, person.phone, person.name, first_day, last_day, all_cards)
        for card in all_cards:
            card_first = max(first_day, local_day(card.active_from))
            card_last = min(last_day, local_day(card.active_until - 1))
            plan = make_plan(
                settings.seed,
                card,
                customer_id,
                contacts,
                card_first,
                card_last,
                lazy_monthly / 30.44 * card.weight / total_weight,
                main_card=card.index == 0 and not card.is_virtual,
                entity_outflow_major=_monthly_outflow_major(result, card.token, card_first, card_last),
            )
            _quiet_while_frozen(
                plan.lazy_counts, card_first, result.entities.get("virtual_cards", []), card.token
            )
            plan.entity_txs = {
                day: txs
                for day, txs in result.card_txs.get(card.token, {}).items()
                if card_first <= day <= card_last
            }
            plan.finish()
            store.add(plan)
        data.cards = [store.plans[card.token].spec for card in all_cards]
        data.entities = result.entities
        data.virtual_entities = {e.pk: e for e in result.entities.get("virtual_cards", [])}
        data.saved_invoices = result.saved_invoices
        for entities in result.entities.values():
            for entity in entities:
                for row in entity_events(entity):
                    data.events_by_day.setdefault(local_day(row[0]), []).append(row)
        for rows in data.events_by_day.values():
            rows.sort(key=lambda r: (r[0], r[1]))
        out.append(data)
    return out
