"""The card ledger: what each operation books, balances at any instant, monthly statements, exports.

A posted operation books ``amount_minor - commission_minor`` at ``posted_at``; one posted and then
reversed books the opposite at ``reversed_at``; pending, declined and never-posted holds book
nothing. Per booking day the totals are accumulated once (from the operations' final fates), so a
balance is a sum of day totals plus an exact look at the partial days at the window's edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trastpay_sandbox.world.card_activity import SETTLEMENT_DAYS, CardPlan, Tx, day_core, salary_tx
from trastpay_sandbox.world.card_store import CardStore
from trastpay_sandbox.world.clock import DAY, OFFSET_SECONDS, day_start, local_day
from trastpay_sandbox.world.rng import gc_paused

Booking = tuple[int, str, int, int, bool]
"""``(booked_at, transaction_id, delta, commission, is_reversal)``; delta is signed, commission folded in."""


def bookings_of(tx: Tx) -> list[Booking]:
    if tx.declined or tx.post < 0:
        return []
    delta = tx.amount - tx.commission
    out: list[Booking] = [(tx.post, tx.id, delta, tx.commission, False)]
    if tx.rev >= 0:
        out.append((tx.rev, tx.id, -delta, -tx.commission, True))
    return out


@dataclass
class Totals:
    net: int = 0
    debit: int = 0
    credit: int = 0
    commission: int = 0
    count: int = 0
    last: int = -1

    def add(self, epoch: int, delta: int, commission: int) -> None:
        self.net += delta
        if delta < 0:
            self.debit -= delta
        else:
            self.credit += delta
        self.commission += commission
        self.count += 1
        self.last = max(self.last, epoch)

    def merge(self, other: Totals) -> None:
        self.net += other.net
        self.debit += other.debit
        self.credit += other.credit
        self.commission += other.commission
        self.count += other.count
        self.last = max(self.last, other.last)


@dataclass
class _CardBook:
    """Per booking day (index = day - first_day): net, debit, credit, commission, count, last instant."""

    plan: CardPlan
    net: list[int] = field(default_factory=list)
    debit: list[int] = field(default_factory=list)
    credit: list[int] = field(default_factory=list)
    commission: list[int] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    last: list[int] = field(default_factory=list)
    through: int = -1

    def __post_init__(self) -> None:
        span = self.plan.last_day - self.plan.first_day + SETTLEMENT_DAYS + 2
        for name in ("net", "debit", "credit", "commission", "count"):
            setattr(self, name, [0] * span)
        self.last = [-1] * span
        self.through = self.plan.first_day - 1

    def add(self, index: int, epoch: int, delta: int, commission: int) -> None:
        self.net[index] += delta
        if delta < 0:
            self.debit[index] -= delta
        else:
            self.credit[index] += delta
        self.commission[index] += commission
        self.count[index] += 1
        if epoch > self.last[index]:
            self.last[index] = epoch

    def totals(self, lo: int, hi: int) -> Totals:
        return Totals(
            sum(self.net[lo:hi]),
            sum(self.debit[lo:hi]),
            sum(self.credit[lo:hi]),
            sum(self.commission[lo:hi]),
            sum(self.count[lo:hi]),
            max(self.last[lo:hi], default=-1),
        )


class Ledger:
    """Balances and totals of every card, derived from the card store."""

    def __init__(self, store: CardStore) -> None:
        self.store = store
        self._books: dict[str, _CardBook] = {}

    def _book(self, token: str) -> _CardBook:
        book = self._books.get(token)
        if book is None:
            book = self._books[token] = _CardBook(self.store.plans[token])
        return book

    def _ensure(self, book: _CardBook, through_day: int) -> None:
        """Accumulate day totals of every operation that occurred up to ``through_day``."""
        plan = book.plan
        target = min(through_day, plan.last_day)
        with gc_paused():
            self._accumulate(book, target)
        book.through = max(book.through, target)

    def _accumulate(self, book: _CardBook, target: int) -> None:
        plan = book.plan
        first = plan.first_day
        net, debit, credit, fees, count, last = (
            book.net,
            book.debit,
            book.credit,
            book.commission,
            book.count,
            book.last,
        )
        for tx_day in range(book.through + 1, target + 1):
            if not plan.count(tx_day):
                continue
            for _, _, _, amount, commission, post, rev, declined in day_core(self.store.seed, plan, tx_day):
                if declined or post < 0:
                    continue
                delta = amount - commission
                index = (post + OFFSET_SECONDS) // DAY - first
                net[index] += delta
                if delta < 0:
                    debit[index] -= delta
                else:
                    credit[index] += delta
                fees[index] += commission
                count[index] += 1
                if post > last[index]:
                    last[index] = post
                if rev >= 0:
                    book.add((rev + OFFSET_SECONDS) // DAY - first, rev, -delta, -commission)
            extra = list(plan.entity_txs.get(tx_day, ()))
            salary = salary_tx(plan, tx_day)
            if salary is not None:
                extra.append(salary)
            for tx in extra:
                for epoch, _, delta, commission, _ in bookings_of(tx):
                    book.add(local_day(epoch) - first, epoch, delta, commission)

    def bookings(self, token: str, start: int, end: int, now: int) -> list[Booking]:
        """Every booking with ``start <= booked_at < end`` and ``booked_at <= now``, in booking order."""
        plan = self.store.plans[token]
        cut = min(end, now + 1)
        if start >= cut:
            return []
        first = max(local_day(start) - SETTLEMENT_DAYS, plan.first_day)
        last = min(local_day(cut - 1), plan.last_day)
        out: list[Booking] = []
        for tx_day in range(first, last + 1):
            if plan.count(tx_day):
                for tx in self.store.day(token, tx_day):
                    out.extend(b for b in bookings_of(tx) if start <= b[0] < cut)
        out.sort(key=lambda b: (b[0], b[1], b[4]))
        return out

    def window(self, token: str, start: int, end: int, now: int) -> Totals:
        """Totals of the bookings with ``start <= booked_at < min(end, now + 1)``."""
        book = self._book(token)
        plan = book.plan
        cut = min(end, now + 1)
        totals = Totals()
        if start >= cut:
            return totals
        first_full = local_day(start) if day_start(local_day(start)) >= start else local_day(start) + 1
        end_full = local_day(cut)
        lo_day = max(first_full, plan.first_day)
        hi_day = min(end_full, plan.last_day + SETTLEMENT_DAYS + 1)
        if hi_day > lo_day:
            self._ensure(book, hi_day - 1)
            totals.merge(book.totals(lo_day - plan.first_day, hi_day - plan.first_day))
            edges = [(start, day_start(first_full)), (day_start(end_full), cut)]
        else:
            edges = [(start, cut)]
        for a, b in edges:
            for epoch, _, delta, commission, _ in self.bookings(token, a, b, now):
                totals.add(epoch, delta, commission)
        return totals

    def balance_before(self, token: str, epoch: int, now: int) -> int:
        """The balance just before ``epoch`` (bookings after ``now`` do not exist yet)."""
        plan = self.store.plans[token]
        start = day_start(plan.first_day)
        return plan.spec.opening_balance_minor + self.window(token, start, epoch, now).net

    def balance_at(self, token: str, now: int) -> int:
        return self.balance_before(token, now + 1, now)
