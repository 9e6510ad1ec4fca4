"""The two unbounded list streams, ``events`` and ``cashback_ledger``, paged day by day.

Their volume follows card activity (millions of records at benchmark scale), so they are never
materialised: a day's items are built from the card days that can still change on it plus the
entity events of that day, and days fully in the past are cached by item count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from trastpay_sandbox.world.card_activity import SETTLEMENT_DAYS
from trastpay_sandbox.world.card_store import CardStore, SizedLru
from trastpay_sandbox.world.cards import CardSpec
from trastpay_sandbox.world.clock import day_start, local_day
from trastpay_sandbox.world.records import Entity
from trastpay_sandbox.world.tx_derived import Transition, cashback_entry, split_by_day, tx_event

Row = tuple[int, str, dict[str, Any]]


class CustomerView(Protocol):
    id: str
    cards: list[CardSpec]
    first_day: int
    last_day: int
    events_by_day: dict[int, list[Row]]
    virtual_entities: dict[str, Entity]


class LazyStreams:
    def __init__(self, store: CardStore, customers: dict[str, Any], cache_bytes: int) -> None:
        self.store = store
        self.customers: dict[str, CustomerView] = customers
        # Sizes are counted in items (a transition ~ 500 bytes with its operation, a row ~ 1 kB).
        self._buckets: SizedLru[tuple[str, int], list[list[Transition]]] = SizedLru(
            max(1, cache_bytes // 4096)
        )
        self._days: SizedLru[tuple[str, str, int], list[Row]] = SizedLru(max(1, cache_bytes // 8192))

    def _transitions(self, card: CardSpec, tx_day: int) -> list[list[Transition]]:
        key = (card.token, tx_day)
        buckets = self._buckets.get(key)
        if buckets is None:
            plan = self.store.plans[card.token]
            txs = self.store.day(card.token, tx_day) if plan.count(tx_day) else []
            buckets = split_by_day(txs, tx_day)
            self._buckets.put(key, buckets, 1 + 2 * len(txs))
        return buckets

    def day_rows(self, customer_id: str, stream: str, day: int, now: int) -> list[Row]:
        """Items of ``stream`` happening on ``day`` at or before ``now``, ordered by (instant, id)."""
        complete = day_start(day + 1) <= now + 1
        key = (customer_id, stream, day)
        if complete:
            cached = self._days.get(key)
            if cached is not None:
                return cached
        data = self.customers[customer_id]
        rows: list[Row] = []
        for card in data.cards:
            plan = self.store.plans[card.token]
            for back in range(SETTLEMENT_DAYS + 1):
                tx_day = day - back
                if tx_day < plan.first_day or tx_day > plan.last_day or not plan.count(tx_day):
                    continue
                for item in self._transitions(card, tx_day)[back]:
                    if item[0] > now:
                        continue
                    if stream == "events":
                        event = tx_event(item, card)
                        rows.append((item[0], event["id"], event))
                    else:
                        made = cashback_entry(item, card)
                        if made is not None:
                            rows.append((item[0], made[0]["id"], made[0]))
                    if stream == "events" and item[3].cashback_bp:
                        made = cashback_entry(item, card)
                        if made is not None:
                            rows.append((item[0], made[1]["id"], made[1]))
        if stream == "events":
            rows.extend(r for r in data.events_by_day.get(day, ()) if r[0] <= now)
        rows.sort(key=lambda r: (r[0], r[1]))
        if complete:
            self._days.put(key, rows, 1 + len(rows))
        return rows

    def _bounds(self, customer_ids: list[str], lo: int | None, hi: int | None, now: int) -> tuple[int, int]:
        first = min(self.customers[c].first_day for c in customer_ids)
        last = max(self.customers[c].last_day for c in customer_ids) + SETTLEMENT_DAYS
        start_day = first if lo is None else max(first, local_day(lo))
        cut = now + 1 if hi is None else min(hi, now + 1)
        return start_day, min(last, local_day(cut - 1))

    def iterate(
        self,
        customer_id: str,
        stream: str,
        lo: int | None,
        hi: int | None,
        after: tuple[int, str] | None,
        now: int,
    ) -> Iterator[Row]:
        """Rows with ``lo <= instant < hi``, strictly after ``after``, in order."""
        if after is not None:
            lo = after[0] if lo is None else max(lo, after[0])
        first, last = self._bounds([customer_id], lo, hi, now)
        for day in range(first, last + 1):
            for row in self.day_rows(customer_id, stream, day, now):
                if lo is not None and row[0] < lo:
                    continue
                if hi is not None and row[0] >= hi:
                    return
                if after is not None and (row[0], row[1]) <= after:
                    continue
                yield row

    def page(
        self,
        customer_id: str,
        stream: str,
        lo: int | None,
        hi: int | None,
        after: tuple[int, str] | None,
        limit: int,
        now: int,
    ) -> tuple[list[dict[str, Any]], bool]:
        out: list[dict[str, Any]] = []
        for row in self.iterate(customer_id, stream, lo, hi, after, now):
            if len(out) == limit:
                return out, True
            out.append(row[2])
        return out, False

    def events_all(self, lo: int, hi: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every customer's events with ``lo <= instant < hi``, merged in (instant, id) order."""
        ids = list(self.customers)
        if hi <= lo:
            return
        first, last = self._bounds(ids, lo, hi, hi - 1)
        for day in range(first, last + 1):
            merged: list[tuple[int, str, str, dict[str, Any]]] = []
            for customer_id in ids:
                for at, event_id, event in self.day_rows(customer_id, "events", day, hi - 1):
                    if lo <= at < hi:
                        merged.append((at, event_id, customer_id, event))
            merged.sort(key=lambda r: (r[0], r[1]))
            for _, _, customer_id, event in merged:
                yield customer_id, event
