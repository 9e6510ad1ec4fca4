"""Read-ahead budget: the pages of every partition together never hold more records or bytes than
the budget (the page being fetched and the page the consumer holds included), the partition being
read always gets through, and a page larger than the whole budget goes through alone."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from trastpay.read_ahead import PageBudget, ReadAhead, Weight

Page = tuple[str, int, Weight]


class Pages:
    """Producers of weighed pages that count what exists: created by a producer, not yet let go
    of by the consumer (the real memory a budget must bound)."""

    def __init__(self, weight: Weight) -> None:
        self.weight = weight
        self.lock = threading.Lock()
        self.live = [0, 0]
        self.most = [0, 0]
        self.produced: dict[str, int] = {}

    def producer(self, name: str, pages: int) -> Callable[[], Iterator[Page]]:
        def produce() -> Iterator[Page]:
            for page in range(pages):
                with self.lock:
                    self.live = [self.live[0] + self.weight[0], self.live[1] + self.weight[1]]
                    self.most = [max(self.most[0], self.live[0]), max(self.most[1], self.live[1])]
                    self.produced[name] = self.produced.get(name, 0) + 1
                yield name, page, self.weight

        return produce

    def done_with(self, page: Page) -> None:
        with self.lock:
            self.live = [self.live[0] - page[2][0], self.live[1] - page[2][1]]


def _weigh(page: Page) -> Weight:
    return page[2]


def _wait_until(condition: Callable[[], bool]) -> None:
    event = threading.Event()
    for _ in range(500):
        if condition():
            return
        event.wait(0.01)
    raise AssertionError("the read-ahead never reached the expected state")


@pytest.mark.parametrize(
    ("limit", "weight"),
    [((1000, 10**9), (100, 1)), ((10**9, 1000), (1, 100))],
    ids=["records bind", "bytes bind"],
)
def test_given_a_budget_and_a_stalled_consumer_when_reading_ahead_then_pages_in_memory_never_exceed_it(
    limit: Weight, weight: Weight
) -> None:
    pages = Pages(weight)
    names = ("a", "b", "c", "d", "e")
    budget = PageBudget(*limit)
    ahead: ReadAhead[Page] = ReadAhead(
        [(name, pages.producer(name, 20)) for name in names], workers=4, budget=budget, weigh=_weigh
    )
    first = ahead.take("a")
    assert first is not None
    held = next(first)
    # the consumer holds a:0; the partitions read ahead until the budget is exactly full (10 pages)
    full = (10 * weight[0], 10 * weight[1])
    _wait_until(lambda: budget.used == full)
    with pages.lock:
        assert pages.live == list(full)
        assert sum(count for name, count in pages.produced.items() if name != "a") > 0  # others read ahead
    seen = [held[:2]]
    pages.done_with(held)
    for name in names:
        items = first if name == "a" else ahead.take(name)
        assert items is not None
        for page in items:
            seen.append(page[:2])
            pages.done_with(page)
    ahead.close()
    assert seen == [(name, page) for name in names for page in range(20)]
    assert pages.most[0] <= limit[0]
    assert pages.most[1] <= limit[1]
    assert budget.peak[0] <= limit[0]
    assert budget.peak[1] <= limit[1]
    assert budget.used == (0, 0)


def test_given_pages_larger_than_the_budget_when_reading_then_each_goes_through_alone() -> None:
    pages = Pages((120, 5000))
    budget = PageBudget(50, 1000)
    names = ("a", "b", "c")
    ahead: ReadAhead[Page] = ReadAhead(
        [(name, pages.producer(name, 3)) for name in names], workers=3, budget=budget, weigh=_weigh
    )
    seen = []
    for name in names:
        items = ahead.take(name)
        assert items is not None
        for page in items:
            seen.append(page[:2])
            pages.done_with(page)
    ahead.close()
    assert seen == [(name, page) for name in names for page in range(3)]
    assert pages.most == [120, 5000]  # one page at a time, never two
    assert budget.used == (0, 0)


def test_given_a_budget_when_the_consumer_skips_a_partition_or_closes_then_what_it_held_is_freed() -> None:
    pages = Pages((10, 10))
    budget = PageBudget(100, 100)
    names = ("a", "b", "c", "d")
    ahead: ReadAhead[Page] = ReadAhead(
        [(name, pages.producer(name, 50)) for name in names], workers=4, budget=budget, weigh=_weigh
    )
    first = ahead.take("a")
    assert first is not None
    assert next(first)[:2] == ("a", 0)
    _wait_until(lambda: budget.used == (100, 100))
    third = ahead.take("c")  # a and b are dropped with whatever they held
    assert third is not None
    assert [page[:2] for page in third] == [("c", page) for page in range(50)]
    fourth = ahead.take("d")
    assert fourth is not None
    assert next(fourth)[:2] == ("d", 0)
    ahead.close()
    assert budget.used == (0, 0)
    assert ahead.take("b") is None


def test_given_a_budget_of_nothing_when_building_then_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 record"):
        PageBudget(0, 100)


@pytest.mark.parametrize(("page_size", "records"), [(1, 5000), (100, 5000), (500, 4000), (1000, 2000)])
def test_given_a_page_size_when_sizing_the_session_budget_then_small_pages_get_many_and_large_ones_two(
    page_size: int, records: int
) -> None:
    from trastpay.session import read_ahead_records

    assert read_ahead_records(page_size) == records
