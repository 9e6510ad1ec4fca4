"""The world: a pure function of (seed, settings, clock) behind one object the server calls."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from trastpay_sandbox.world import lazy_streams
from trastpay_sandbox.world.build import CustomerData, build_customers
from trastpay_sandbox.world.card_store import CardStore
from trastpay_sandbox.world.clock import SandboxClock, date_day, fmt_ts, to_epoch
from trastpay_sandbox.world.eligibility import eligibility
from trastpay_sandbox.world.fx_rates import cbu_rates
from trastpay_sandbox.world.ledger import Ledger
from trastpay_sandbox.world.settings import SandboxSettings
from trastpay_sandbox.world.statements import StatementExport, card_record, month_statements, statement_export

LIST_STREAMS = {
    "statements": ("period_start", ("card_token", "month")),
    "transfers": ("updated_at", ("id",)),
    "microloans": ("updated_at", ("id",)),
    "microloan_schedules": ("updated_at", ("loan_id", "instalment_number")),
    "microloan_repayments": ("paid_at", ("id",)),
    "instalment_plans": ("updated_at", ("id",)),
    "instalment_payments": ("updated_at", ("id",)),
    "deposits": ("updated_at", ("id",)),
    "deposit_operations": ("occurred_at", ("id",)),
    "fx_conversions": ("occurred_at", ("id",)),
    "virtual_cards": ("updated_at", ("card_token",)),
    "utility_payments": ("updated_at", ("id",)),
    "cashback_ledger": ("occurred_at", ("id",)),
    "events": ("occurred_at", ("id",)),
    "saved_invoices": (None, ("id",)),
}
OTHER_STREAMS = {"cards": (None, ("card_token",)), "card_transactions": ("occurred_at", ("id",))}
CHILD_PARENTS = {
    "statements": "cards",
    "microloan_schedules": "microloans",
    "microloan_repayments": "microloans",
    "instalment_payments": "instalment_plans",
    "deposit_operations": "deposits",
}
ALL_STREAMS = (
    "cards",
    "card_transactions",
    "statements",
    "transfers",
    "microloans",
    "microloan_schedules",
    "microloan_repayments",
    "instalment_plans",
    "instalment_payments",
    "deposits",
    "deposit_operations",
    "fx_conversions",
    "virtual_cards",
    "utility_payments",
    "cashback_ledger",
    "events",
)


@dataclass(frozen=True)
class Customer:
    id: str
    phone: str
    name: str
    card_tokens: tuple[str, ...]


def _parse_cursor(value: str) -> int:
    try:
        return to_epoch(datetime.fromisoformat(value))
    except ValueError as exc:
        raise ValueError(f"cursor value {value!r} is not an RFC 3339 timestamp with offset") from exc


class World:
    """Deterministic synthetic Trastpay data for every customer, as of the sandbox clock."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self._clock = SandboxClock(settings.clock_start)
        self._store = CardStore(settings.seed, settings.cache_bytes)
        self._ledger = Ledger(self._store)
        self._data: dict[str, CustomerData] = {}
        for data in build_customers(settings, self._store):
            self._data[data.id] = data
        self._by_phone = {d.phone: d.id for d in self._data.values()}
        self._lazy = lazy_streams.LazyStreams(self._store, self._data, settings.cache_bytes)
        self._view_cache: dict[tuple[str, str, str | None, int], list[tuple[int, str, dict[str, Any]]]] = {}

    # -- clock ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self._clock.now()

    def advance(self, delta: timedelta) -> datetime:
        return self._clock.advance(delta)

    def set_clock(self, when: datetime) -> datetime:
        return self._clock.set(when)

    # -- customers and cards -------------------------------------------------------------------
    def customers(self) -> list[Customer]:
        return [self._customer(d) for d in self._data.values()]

    def _customer(self, data: CustomerData) -> Customer:
        return Customer(data.id, data.phone, data.name, tuple(c.token for c in self._visible_cards(data)))

    def _visible_cards(self, data: CustomerData) -> list[Any]:
        now = self._clock.epoch
        return [c for c in data.cards if c.linked_at <= now]

    def customer(self, customer_id: str) -> Customer:
        return self._customer(self._get(customer_id))

    def _get(self, customer_id: str) -> CustomerData:
        try:
            return self._data[customer_id]
        except KeyError:
            raise KeyError(f"unknown customer '{customer_id}'") from None

    def customer_by_phone(self, phone: str) -> Customer | None:
        customer_id = self._by_phone.get(phone)
        return None if customer_id is None else self.customer(customer_id)

    def cards(self, customer_id: str) -> list[dict[str, Any]]:
        data = self._get(customer_id)
        now = self._clock.epoch
        return [card_record(c, self._ledger, data, now) for c in self._visible_cards(data)]

    def _card(self, customer_id: str, card_token: str) -> Any:
        data = self._get(customer_id)
        for card in self._visible_cards(data):
            if card.token == card_token:
                return card
        raise KeyError(f"card '{card_token}' is not a card of customer '{customer_id}'")

    # -- card transactions ---------------------------------------------------------------------
    def statement_page(
        self,
        customer_id: str,
        card_token: str,
        start: datetime,
        end: datetime,
        page: int,
        page_size: int,
        *,
        include_commission: bool = True,
        rail: str | None = None,
    ) -> tuple[bytes, int | None]:
        card = self._card(customer_id, card_token)
        if page < 0:
            raise ValueError(f"page must be >= 0, got {page}")
        if page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {page_size}")
        if rail is not None and rail != card.rail:
            return b"[]", None
        return self._store.statement_page(
            card_token, to_epoch(start), to_epoch(end), self._clock.epoch, page, page_size, include_commission
        )

    def microloan_eligibility(self, customer_id: str, amount_minor: int) -> dict[str, Any]:
        """The online microloan eligibility answer for ``amount_minor`` as of the clock."""
        data = self._get(customer_id)
        income = 0
        for card in data.cards:
            plan = self._store.plans.get(card.token)
            if plan is not None and plan.main_card:
                income += plan.salary_minor * len(plan.income_days)
        loans = list(self.truth(customer_id, "microloans"))
        return eligibility(self.settings.seed, customer_id, amount_minor, income, loans, self._clock.epoch)

    def statement_export(
        self, customer_id: str, card_token: str, from_date: date, to_date: date
    ) -> StatementExport:
        card = self._card(customer_id, card_token)
        if to_date < from_date:
            raise ValueError(f"to_date {to_date} is before from_date {from_date}")
        record = card_record(card, self._ledger, self._get(customer_id), self._clock.epoch)
        return statement_export(record, card, self._ledger, from_date, to_date, self._clock.epoch)

    # -- list streams --------------------------------------------------------------------------
    def cursor_field(self, stream: str) -> str | None:
        return self._stream_info(stream)[0]

    def primary_key(self, stream: str) -> tuple[str, ...]:
        return self._stream_info(stream)[1]

    @staticmethod
    def _stream_info(stream: str) -> tuple[str | None, tuple[str, ...]]:
        info = LIST_STREAMS.get(stream) or OTHER_STREAMS.get(stream)
        if info is None:
            raise KeyError(f"unknown stream '{stream}'")
        return info

    def _check_parent(self, customer_id: str, stream: str, parent_id: str | None) -> None:
        parent_stream = CHILD_PARENTS.get(stream)
        if parent_stream is None:
            if parent_id is not None:
                raise ValueError(f"stream '{stream}' takes no parent_id")
            return
        if parent_id is None:
            raise ValueError(f"stream '{stream}' needs parent_id (a {parent_stream} id)")
        if parent_stream == "cards":
            self._card(customer_id, parent_id)
            return
        now = self._clock.epoch
        for entity in self._get(customer_id).entities.get(parent_stream, []):
            if entity.pk == parent_id and entity.created_at <= now:
                return
        raise KeyError(f"{parent_stream} '{parent_id}' is not known for customer '{customer_id}'")

    def _view(
        self, customer_id: str, stream: str, parent_id: str | None
    ) -> list[tuple[int, str, dict[str, Any]]]:
        now = self._clock.epoch
        key = (customer_id, stream, parent_id, now)
        cached = self._view_cache.get(key)
        if cached is not None:
            return cached
        if len(self._view_cache) > 256:
            self._view_cache.clear()
        data = self._get(customer_id)
        rows: list[tuple[int, str, dict[str, Any]]] = []
        if stream == "statements":
            assert parent_id is not None
            card = self._card(customer_id, parent_id)
            for record in month_statements(card, self._ledger, now):
                rows.append(
                    (
                        to_epoch(datetime.fromisoformat(record["period_start"])),
                        f"{record['card_token']}:{record['month']}",
                        record,
                    )
                )
        else:
            for entity in data.entities.get(stream, []):
                if parent_id is not None and entity.parent != parent_id:
                    continue
                version = entity.at(now)
                if version is not None:
                    rows.append((version.cursor, entity.pk, version.record))
        rows.sort(key=lambda r: (r[0], r[1]))
        self._view_cache[key] = rows
        return rows

    def list_page(
        self,
        customer_id: str,
        stream: str,
        *,
        parent_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 100,
    ) -> tuple[list[dict[str, Any]], bool]:
        if stream not in LIST_STREAMS:
            raise KeyError(f"stream '{stream}' is not a list stream")
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        self._get(customer_id)
        if stream == "saved_invoices":
            items = self.saved_invoices(customer_id)
            if after is not None:
                items = [i for i in items if i["id"] > after[1]]
            return items[:limit], len(items) > limit
        self._check_parent(customer_id, stream, parent_id)
        lo = to_epoch(since) if since is not None else None
        hi = to_epoch(until) if until is not None else None
        after_key = (_parse_cursor(after[0]), after[1]) if after is not None else None
        if stream in ("events", "cashback_ledger"):
            return self._lazy.page(customer_id, stream, lo, hi, after_key, limit, self._clock.epoch)
        rows = self._view(customer_id, stream, parent_id)
        start = 0
        if lo is not None:
            start = bisect_left(rows, lo, key=lambda r: r[0])
        if after_key is not None:
            start = max(start, bisect_left(rows, after_key, key=lambda r: (r[0], r[1])))
            while start < len(rows) and (rows[start][0], rows[start][1]) <= after_key:
                start += 1
        out: list[dict[str, Any]] = []
        index = start
        while index < len(rows) and len(out) <= limit:
            if hi is not None and rows[index][0] >= hi:
                break
            out.append(rows[index][2])
            index += 1
        return out[:limit], len(out) > limit

    # -- truth and the rest --------------------------------------------------------------------
    def truth(self, customer_id: str, stream: str) -> Iterator[dict[str, Any]]:
        data = self._get(customer_id)
        now = self._clock.epoch
        if stream not in ALL_STREAMS:
            raise KeyError(f"unknown stream '{stream}'")
        if stream == "cards":
            yield from self.cards(customer_id)
        elif stream == "card_transactions":
            for card in self._visible_cards(data):
                for chunk in self._card_pages(customer_id, card.token):
                    yield from chunk
        elif stream == "statements":
            for card in self._visible_cards(data):
                for _, _, record in self._view(customer_id, stream, card.token):
                    yield record
        elif stream in ("events", "cashback_ledger"):
            for _, _, record in self._lazy.iterate(customer_id, stream, None, None, None, now):
                yield record
        else:
            for _, _, record in self._view(customer_id, stream, None):
                yield record

    def _card_pages(self, customer_id: str, token: str) -> Iterator[list[dict[str, Any]]]:
        start = self.settings.clock_start - timedelta(days=self.settings.history_days + 2)
        end = self.now() + timedelta(seconds=1)
        page: int | None = 0
        while page is not None:
            body, page = self.statement_page(customer_id, token, start, end, page, 1000)
            yield orjson.loads(body)

    def saved_invoices(self, customer_id: str) -> list[dict[str, Any]]:
        data = self._get(customer_id)
        now = self._clock.epoch
        return sorted((dict(r) for at, r in data.saved_invoices if at <= now), key=lambda r: r["id"])

    def fx_rates(self, day: date) -> list[dict[str, Any]]:
        return cbu_rates(self.settings.seed, date_day(day))

    def events_between(self, start: datetime, end: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
        lo, hi = to_epoch(start), min(to_epoch(end), self._clock.epoch)
        yield from self._lazy.events_all(lo + 1, hi + 1)

    def events_by_id_range(self, from_id: str, to_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
        try:
            lo, hi = int(from_id[4:14]), int(to_id[4:14])
        except ValueError:
            raise ValueError(
                f"event ids look like 'evt_<10 digits>_...', got {from_id!r}, {to_id!r}"
            ) from None
        for customer_id, event in self._lazy.events_all(lo, min(hi, self._clock.epoch) + 1):
            if from_id <= event["id"] <= to_id:
                yield customer_id, event

    def describe(self) -> str:
        return (
            f"World(seed={self.settings.seed}, customers={len(self._data)}, now={fmt_ts(self._clock.epoch)})"
        )


__all__ = ["Customer", "World"]
