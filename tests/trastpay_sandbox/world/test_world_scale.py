from __future__ import annotations

import resource
import time
from datetime import timedelta

import orjson
import pytest

from trastpay_sandbox.world import SandboxSettings, World
from trastpay_sandbox.world.clock import day_start, from_epoch, local_day


def _count_window(world: World, customer_id: str, token: str, days: int, page_size: int = 1000) -> int:
    end = world.now() + timedelta(seconds=1)
    start = world.settings.clock_start - timedelta(days=days)
    total, page = 0, 0
    next_page: int | None = 0
    while next_page is not None:
        body, next_page = world.statement_page(customer_id, token, start, end, page, page_size)
        total += len(orjson.loads(body))
        page += 1
    return total


def test_given_requested_volume_when_counting_history_then_close_to_it() -> None:
    world = World(SandboxSettings(customers=2, transactions=40_000, seed=3))
    total = sum(
        _count_window(world, c.id, token, world.settings.history_days)
        for c in world.customers()
        for token in c.card_tokens
    )
    assert 0.8 * 40_000 <= total <= 1.2 * 40_000


def test_given_realistic_volume_when_counting_a_month_then_40_to_90_operations_per_customer(
    world: World,
) -> None:
    for customer in world.customers():
        month = sum(_count_window(world, customer.id, token, 30) for token in customer.card_tokens)
        assert 25 <= month <= 130, month


@pytest.mark.slow
def test_given_a_million_transactions_when_built_and_paged_then_fast_counts_match_and_memory_bounded() -> (
    None
):
    cache_bytes = 64 * 1024 * 1024
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.perf_counter()
    world = World(SandboxSettings(customers=1, transactions=1_000_000, cache_bytes=cache_bytes))
    assert time.perf_counter() - started < 2.0
    customer = world.customers()[0]
    token = customer.card_tokens[0]
    plan = world._store.plans[token]
    today = local_day(int(world.now().timestamp()))
    start, end = from_epoch(day_start(plan.first_day)), from_epoch(day_start(today))
    expected = sum(plan.count(day) for day in range(plan.first_day, today))
    total, last = 0, ("", "")
    page: int | None = 0
    while page is not None:
        body, page = world.statement_page(customer.id, token, start, end, page, 1000)
        items = orjson.loads(body)
        for item in items:
            key = (item["occurred_at"], item["id"])
            assert key > last
            last = key
        total += len(items)
    assert total == expected > 300_000
    statements, _ = world.list_page(customer.id, "statements", parent_id=token, limit=100)
    assert sum(s["entry_count"] for s in statements) > 0.9 * total
    events, more = world.list_page(customer.id, "events", limit=1000)
    assert len(events) == 1000
    assert more
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert rss_after - rss_before < 2 * cache_bytes + 400 * 1024 * 1024
