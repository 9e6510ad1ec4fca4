"""Read-ahead: partitions fetched concurrently, handed over in plan order, bounded and cancellable."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from trastpay.read_ahead import ReadAhead


class Recorder:
    """Producers that note when they start and block until released, to observe concurrency."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.produced: dict[str, int] = {}
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.all_started = threading.Condition(self.lock)

    def producer(self, name: str, pages: int, *, fail_at: int | None = None) -> Callable[[], Iterator[str]]:
        def produce() -> Iterator[str]:
            with self.lock:
                self.started.append(name)
                self.all_started.notify_all()
            self.release.wait(timeout=10)
            for page in range(pages):
                if page == fail_at:
                    raise RuntimeError(f"{name} broke at page {page}")
                with self.lock:
                    self.produced[name] = self.produced.get(name, 0) + 1
                yield f"{name}:{page}"

        return produce

    def wait_started(self, count: int) -> None:
        with self.lock:
            assert self.all_started.wait_for(lambda: len(self.started) >= count, timeout=10)


def test_given_a_plan_when_taking_in_order_then_items_arrive_in_order_and_partitions_overlap() -> None:
    recorder = Recorder()
    plan = [(name, recorder.producer(name, 3)) for name in ("a", "b", "c", "d", "e")]
    ahead: ReadAhead[str] = ReadAhead(plan, workers=3)
    first = ahead.take("a")
    assert first is not None
    recorder.wait_started(3)
    assert sorted(recorder.started) == ["a", "b", "c"]  # three at once, not "d" yet
    recorder.release.set()
    seen: list[str] = list(first)
    for name in ("b", "c", "d", "e"):
        items = ahead.take(name)
        assert items is not None
        seen += list(items)
    assert seen == [f"{name}:{page}" for name in "abcde" for page in range(3)]
    ahead.close()


def test_given_a_slow_consumer_when_reading_ahead_then_each_partition_holds_at_most_depth_pages() -> None:
    recorder = Recorder()
    recorder.release.set()
    plan = [(name, recorder.producer(name, 50)) for name in ("a", "b")]
    ahead: ReadAhead[str] = ReadAhead(plan, workers=2, depth=2)
    items = ahead.take("a")
    assert items is not None
    assert next(items) == "a:0"
    recorder.wait_started(2)
    deadline = threading.Event()
    deadline.wait(0.3)  # let the producers run as far as their queues allow
    with recorder.lock:
        # queue of 2 + one blocked in put + the one handed over; never the whole partition
        assert recorder.produced["a"] <= 4
        assert recorder.produced.get("b", 0) <= 3
    ahead.close()


def test_given_a_failing_partition_when_taken_then_earlier_items_arrive_before_the_error() -> None:
    recorder = Recorder()
    recorder.release.set()
    plan = [("a", recorder.producer("a", 2)), ("b", recorder.producer("b", 5, fail_at=2))]
    ahead: ReadAhead[str] = ReadAhead(plan, workers=2)
    first = ahead.take("a")
    assert first is not None
    assert list(first) == ["a:0", "a:1"]
    second = ahead.take("b")
    assert second is not None
    assert next(second) == "b:0"
    assert next(second) == "b:1"
    with pytest.raises(RuntimeError, match="b broke at page 2"):
        next(second)
    ahead.close()


def test_given_an_unplanned_or_skipped_key_when_taking_then_none_and_earlier_ones_are_dropped() -> None:
    recorder = Recorder()
    recorder.release.set()
    plan = [(name, recorder.producer(name, 1)) for name in ("a", "b", "c")]
    ahead: ReadAhead[str] = ReadAhead(plan, workers=1)
    assert ahead.take("zzz") is None
    third = ahead.take("c")
    assert third is not None
    assert list(third) == ["c:0"]
    assert ahead.take("a") is None  # skipped over: the caller reads it inline instead
    ahead.close()
    assert ahead.take("b") is None


def test_given_close_when_producers_are_blocked_on_full_queues_then_their_threads_end() -> None:
    recorder = Recorder()
    recorder.release.set()
    plan = [(name, recorder.producer(name, 1000)) for name in ("a", "b", "c")]
    ahead: ReadAhead[str] = ReadAhead(plan, workers=3, depth=1)
    items = ahead.take("a")
    assert items is not None
    assert next(items) == "a:0"
    recorder.wait_started(3)
    ahead.close()
    workers = [thread for thread in threading.enumerate() if thread.name.startswith("trastpay-read-ahead")]
    for thread in workers:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in workers)
    with recorder.lock:
        assert all(count < 10 for count in recorder.produced.values())


def test_given_bad_sizes_when_building_then_refused() -> None:
    with pytest.raises(ValueError, match="workers"):
        ReadAhead([], workers=0)
