"""Card transactions, generated lazily one (card, day) at a time.

Up front only a count per (card, day) is drawn (one generator per card, so construction is cheap at
any volume). A day's transactions come from a generator seeded by (seed, card, day) and are merged
with the operations other entities put on the card (transfers, "My Home" payments, repayments, FX).
Each :class:`Tx` carries its whole fate (posting and reversal times), so a view at any clock value is
a projection: nothing here depends on the clock.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import accumulate
from statistics import NormalDist
from typing import NamedTuple

from trastpay_sandbox.world.cards import CardSpec, Counterparty
from trastpay_sandbox.world.clock import DAY, day_date, day_start
from trastpay_sandbox.world.merchants import (
    CITIES,
    DECLINE_REASONS,
    HOUR_WEIGHTS,
    SOUM_CATEGORIES,
    USD_CATEGORIES,
    VIRTUAL_CATEGORIES,
    Category,
    pick_atm,
)
from trastpay_sandbox.world.money import apply_rate_bp
from trastpay_sandbox.world.rng import rng_for, stable_int

SETTLEMENT_DAYS = 5
MAX_POST_DELAY = 3 * DAY
P2P_IN_WEIGHT = 7
INCOME_MARGIN = 1.12
"""Income a month over expected spending: balances drift up slowly, like a saver's, rather than sink."""
ONLINE_MCCS = frozenset({"5399", "4899", "4511", "5818", "7011"})
"""MCCs whose operations are card-not-present here (city "Online")."""
OTHER_BANK_ATM_TIER = "OTHER_BANK_ATM"
"""The commission tier of a cash withdrawal at another bank's ATM (the 1 % fee of ``pick_atm``)."""
OPENING_MONTHS = 3.0
"""Opening balance of a card at the history start, in months of its expected spending (at least)."""


class Tx(NamedTuple):
    """One card operation with its full fate; ``post``/``rev`` are -1 when they never happen."""

    occ: int
    id: str
    tx_type: str
    amount: int
    commission: int
    post: int
    rev: int
    declined: bool
    auth_id: str | None
    mcc: str | None
    merchant: str | None
    city: str | None
    cp_pan: str | None
    cp_name: str | None
    cp_bank: str | None
    description: str
    decline_reason: str | None
    cashback_bp: int
    tier: str | None = None
    """Commission tier of the operation (a transfer's tier, ``OTHER_BANK_ATM``); None if none applies."""


@dataclass
class CardPlan:
    """Everything needed to regenerate any day of one card's activity."""

    spec: CardSpec
    customer_id: str
    first_day: int
    last_day: int
    lazy_counts: list[int]
    categories: tuple[Category, ...]
    cum_weights: list[int]
    contacts: tuple[Counterparty, ...]
    salary_minor: int
    """Scheduled income per payment: salary (5th) and advance (20th) on the main card, a monthly
    top-up (6th) on the others."""
    p2p_in_median_major: int
    entity_txs: dict[int, list[Tx]] = field(default_factory=dict)
    totals: list[int] = field(default_factory=list)
    amount_tables: list[tuple[int, ...]] = field(default_factory=list)
    main_card: bool = False

    @property
    def income_days(self) -> tuple[int, ...]:
        return (5, 20) if self.main_card else (6,)

    def count(self, day: int) -> int:
        if day < self.first_day or day > self.last_day:
            return 0
        return self.totals[day - self.first_day]

    def finish(self) -> None:
        """Sort entity operations into their days and compute per-day totals."""
        totals = list(self.lazy_counts)
        for day, txs in self.entity_txs.items():
            txs.sort(key=lambda t: (t.occ, t.id))
            if self.first_day <= day <= self.last_day:
                totals[day - self.first_day] += len(txs)
        if self.salary_minor:
            for day in range(self.first_day, self.last_day + 1):
                if day_date(day).day in self.income_days:
                    totals[day - self.first_day] += 1
        self.totals = totals


def _day_multiplier(day: int) -> float:
    d = day_date(day)
    weekday = (1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 0.9)[d.weekday()]
    payday = 1.45 if d.day in (5, 6, 7, 20, 21) else 1.0
    return weekday * payday


def _draw_count(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1
    return max(0, round(lam + math.sqrt(lam) * rng.gauss(0.0, 1.0)))


def _mean_major(cat: Category) -> float:
    return cat.median_major * math.exp(cat.sigma * cat.sigma / 2)


def categories_for(spec: CardSpec) -> tuple[Category, ...]:
    return {"soum": SOUM_CATEGORIES, "usd": USD_CATEGORIES}.get(spec.kind, VIRTUAL_CATEGORIES)


def make_plan(
    seed: int,
    spec: CardSpec,
    customer_id: str,
    contacts: tuple[Counterparty, ...],
    first_day: int,
    last_day: int,
    daily_rate: float,
    main_card: bool,
    entity_outflow_major: float = 0.0,
) -> CardPlan:
    """Draw the per-day operation counts of one card and size its incoming money (salary on the
    main card, transfers in on the others) to its spending, ``entity_outflow_major`` a month of
    transfers, payments and repayments included, so balances drift gently instead of sinking."""
    cats = categories_for(spec)
    rng = rng_for(seed, "card-counts", spec.token)
    counts = [_draw_count(rng, daily_rate * _day_multiplier(d)) for d in range(first_day, last_day + 1)]
    weights = [c.weight for c in cats]
    debit_weight = sum(weights)
    in_weight = 0 if main_card else P2P_IN_WEIGHT
    mean_debit_major = sum(_mean_major(c) * c.weight for c in cats) / debit_weight
    monthly_debit_major = daily_rate * 30.4 * (debit_weight / (debit_weight + in_weight)) * mean_debit_major
    monthly_debit_major += entity_outflow_major
    salary = 0
    step = 1000 if spec.currency == "UZS" else 1
    if main_card and (daily_rate > 0 or entity_outflow_major > 0):
        salary = max(3_000_000, round(monthly_debit_major * INCOME_MARGIN / 2 / step) * step) * 100
    elif monthly_debit_major > 0:
        salary = round(monthly_debit_major * INCOME_MARGIN / step) * step * 100
    cushion = round(monthly_debit_major * OPENING_MONTHS) * 100
    if cushion > spec.opening_balance_minor:
        spec = replace(spec, opening_balance_minor=cushion)
    return CardPlan(
        spec=spec,
        customer_id=customer_id,
        first_day=first_day,
        last_day=last_day,
        lazy_counts=counts,
        categories=cats,
        cum_weights=list(accumulate([*weights, in_weight])),
        contacts=contacts,
        salary_minor=salary,
        p2p_in_median_major=300_000 if spec.currency == "UZS" else 100,
        main_card=main_card,
    )


_HOUR_CUM = [c * 3600 for c in accumulate(w for _, w in HOUR_WEIGHTS)]
_HOUR_BASE = [h * 3600 for h, _ in HOUR_WEIGHTS]
_HOUR_PREV = [0, *_HOUR_CUM[:-1]]
_HOUR_WEIGHT = [w for _, w in HOUR_WEIGHTS]
_TABLE = 512
_DECLINED = 0.04
_NEVER_POSTS = 0.06
_REFUNDED = 0.0694

Core = tuple[int, int, int, int, int, int, int, bool]
"""A lazily generated operation without its texts:
``(occ, category index, merchant index, signed amount, commission, post, rev, declined)``."""


@lru_cache(maxsize=256)
def amount_table(
    median_major: int, sigma: float, low: int, high: int, step: int, sign: int
) -> tuple[int, ...]:
    """Quantiles of the clamped log-normal amount distribution in minor units; one uniform draw
    picks an amount (fast, and exactly reproducible)."""
    normal = NormalDist()
    out = []
    for index in range(_TABLE):
        value = median_major * math.exp(sigma * normal.inv_cdf((index + 0.5) / _TABLE))
        whole = int(min(max(value, low), high))
        out.append(sign * max(step, whole // step * step) * 100)
    return tuple(out)


def _tables(plan: CardPlan) -> list[tuple[int, ...]]:
    if plan.amount_tables:
        return plan.amount_tables
    tables = [
        amount_table(c.median_major, c.sigma, c.low_major, c.high_major, c.round_to, -1)
        for c in plan.categories
    ]
    step = 1_000 if plan.spec.currency == "UZS" else 1
    tables.append(amount_table(plan.p2p_in_median_major, 0.7, 1, 10**9, step, 1))
    plan.amount_tables = tables
    return tables


def day_core(seed: int, plan: CardPlan, day: int) -> list[Core]:
    """The lazily generated operations of one card-day (entity operations and salary excluded),
    in time order. Only numbers: this is all the ledger needs."""
    if not plan.first_day <= day <= plan.last_day:
        return []
    lazy = plan.lazy_counts[day - plan.first_day]
    if lazy == 0:
        return []
    rng = rng_for(seed, "card-day", plan.spec.token, day)
    rand = rng.random
    base = day_start(day)
    top = _HOUR_CUM[-1]
    occs = []
    for _ in range(lazy):
        x = rand() * top
        slot = bisect_right(_HOUR_CUM, x)
        occs.append(base + _HOUR_BASE[slot] + int((x - _HOUR_PREV[slot]) / _HOUR_WEIGHT[slot]))
    occs.sort()
    cats = plan.categories
    n_cats = len(cats)
    cum = plan.cum_weights
    weight_top = cum[-1]
    tables = _tables(plan)
    window = SETTLEMENT_DAYS * DAY
    out: list[Core] = []
    for occ in occs:
        pick = bisect_right(cum, rand() * weight_top)
        amount = tables[pick][int(rand() * _TABLE)]
        u = rand()
        if pick >= n_cats:
            out.append((occ, pick, 0, amount, 0, occ, -1, False))
            continue
        cat = cats[pick]
        merchant = int(rand() * len(cat.merchants))
        if u < _DECLINED:
            out.append((occ, pick, merchant, amount, 0, -1, -1, True))
        elif not cat.is_hold:
            commission = 0
            if cat.tx_type == "cash_withdrawal":
                merchant, fee_bp = pick_atm(cat.merchants, u)
                commission = apply_rate_bp(-amount, fee_bp) if fee_bp else 0
            out.append((occ, pick, merchant, amount, commission, occ, -1, False))
        elif u < _NEVER_POSTS:
            out.append((occ, pick, merchant, amount, 0, -1, occ + window, False))
        else:
            v = rand()
            if v < 0.45:
                post = occ + 60 + int(v / 0.45 * (6 * 3600 - 60))
            else:
                post = occ + 6 * 3600 + int((v - 0.45) / 0.55 * (MAX_POST_DELAY - 6 * 3600))
            rev = post + 1 + int(rand() * (occ + window - post - 1)) if u < _REFUNDED else -1
            out.append((occ, pick, merchant, amount, 0, post, rev, False))
    return out


def generate_day(seed: int, plan: CardPlan, day: int) -> list[Tx]:
    """Every operation of ``plan``'s card that occurred on Tashkent day ``day``, ordered by (occ, id)."""
    entity = plan.entity_txs.get(day, [])
    core = day_core(seed, plan, day)
    salary = salary_tx(plan, day)
    if not core and salary is None:
        return list(entity)
    rng = rng_for(seed, "card-day-detail", plan.spec.token, day)
    rand = rng.random
    spec = plan.spec
    cats = plan.categories
    n_cats = len(cats)
    cashback_card = spec.is_trastbank and spec.currency == "UZS"
    contacts = plan.contacts
    prefix = f"tx_{spec.token[4:12]}_{day:05d}"
    out: list[Tx] = []
    new = tuple.__new__
    for index, (occ, pick, merchant, amount, commission, post, rev, declined) in enumerate(core):
        tx_id = f"{prefix}{index:06d}"
        if pick >= n_cats:
            contact = contacts[int(rand() * len(contacts))]
            out.append(
                new(
                    Tx,
                    (
                        occ,
                        tx_id,
                        "p2p_in",
                        amount,
                        0,
                        occ,
                        -1,
                        False,
                        None,
                        None,
                        None,
                        None,
                        contact.pan_masked,
                        contact.name,
                        contact.bank,
                        f"Transfer from card {contact.pan_masked}",
                        None,
                        0,
                        None,
                    ),
                )
            )
            continue
        cat = cats[pick]
        name, partner = cat.merchants[merchant]
        city = "Online" if cat.mcc in ONLINE_MCCS else CITIES[int(rand() * len(CITIES))]
        reason = DECLINE_REASONS[int(rand() * len(DECLINE_REASONS))] if declined else None
        out.append(
            new(
                Tx,
                (
                    occ,
                    tx_id,
                    cat.tx_type,
                    amount,
                    commission,
                    post,
                    rev,
                    declined,
                    f"A{tx_id[3:]}" if cat.is_hold else None,
                    cat.mcc,
                    name,
                    city,
                    None,
                    None,
                    None,
                    f"{name}, {city}",
                    reason,
                    cat.cashback_bp if partner and cashback_card and not declined else 0,
                    OTHER_BANK_ATM_TIER if commission else None,
                ),
            )
        )
    if salary is not None:
        out.append(salary)
    if entity:
        out.extend(entity)
        out.sort(key=lambda t: (t.occ, t.id))
    elif salary is not None:
        out.sort(key=lambda t: (t.occ, t.id))
    return out


def salary_tx(plan: CardPlan, day: int) -> Tx | None:
    """Salary on the 5th and an advance on the 20th on the main card; a monthly top-up on the 6th
    on the others. Late morning."""
    if not plan.salary_minor or not plan.first_day <= day <= plan.last_day:
        return None
    d = day_date(day)
    if d.day not in plan.income_days:
        return None
    occ = day_start(day) + 10 * 3600 + stable_int(plan.spec.token, "salary", day) % 7200
    if plan.main_card:
        label, tx_type, payer = ("Salary" if d.day == 5 else "Salary advance"), "salary", "Employer payroll"
    else:
        label, tx_type, payer = "Top-up via Trastpay", "p2p_in", "Trastpay top-up"
    return Tx(
        occ,
        f"tx_{plan.spec.token[4:12]}_{day:05d}S",
        tx_type,
        plan.salary_minor,
        0,
        occ,
        -1,
        False,
        None,
        None,
        payer,
        "Tashkent",
        None,
        None,
        None,
        f"{label} {d:%m.%Y}",
        None,
        0,
        None,
    )
