"""The request budget: one token bucket shared by all threads, closed for everyone after a 429."""

from __future__ import annotations

import threading
import time

import pytest

from trastpay.budget import RequestBudget

from .builders import FakeClock


def test_given_rate_when_requests_exceed_burst_then_callers_wait_in_line() -> None:
    clock = FakeClock()
    budget = RequestBudget(2.0, clock=clock, sleep=clock.sleep)
    start = clock()
    for _ in range(6):
        budget.acquire()
    # burst of 2, then one request every 0.5 s
    assert clock() - start == pytest.approx(2.0)


def test_given_no_rate_when_acquiring_then_never_waits() -> None:
    clock = FakeClock()
    budget = RequestBudget(None, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        budget.acquire()
    assert clock.sleeps == []


def test_given_pause_after_429_when_acquiring_then_everyone_waits_until_it_ends() -> None:
    clock = FakeClock()
    budget = RequestBudget(None, clock=clock, sleep=clock.sleep)
    budget.pause(5.0)
    budget.pause(2.0)
    assert budget.acquire() == pytest.approx(5.0)
    assert budget.acquire() == 0.0


def test_given_zero_rate_when_building_then_refused() -> None:
    with pytest.raises(ValueError, match="requests_per_second"):
        RequestBudget(0)


def test_given_threads_sharing_budget_when_acquiring_then_total_rate_is_respected() -> None:
    budget = RequestBudget(50.0, burst=1.0)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [budget.acquire() for _ in range(5)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    elapsed = time.monotonic() - started
    # 20 requests at 50/s with a burst of 1 need at least 19 intervals of 20 ms
    assert elapsed >= 0.37
