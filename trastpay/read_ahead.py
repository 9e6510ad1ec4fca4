"""Read ahead: fetch upcoming partitions in background threads, hand their pages over in order.

A sync over many cards is bound by round trips, not by CPU: one card at a time leaves the
connection idle while a page travels. :class:`ReadAhead` runs up to ``workers`` partitions at
once, each in its own daemon thread that pulls pages into a queue, while the caller still
consumes partitions one after another in plan order. So records, checkpoints and errors reach the
adapters exactly as a serial read would produce them (a checkpoint never covers a page that was
not handed over, an error surfaces after every earlier page), and the shared request budget still
caps the request rate.

Memory is bounded by one :class:`PageBudget` shared by every partition of the read-ahead, in
records and in bytes (:meth:`ReadAhead.__init__`'s ``weigh`` says what a page weighs): a page
counts from before it is fetched (at the size of the largest page seen so far) until the consumer
comes back for the next one, so the page being fetched, the pages waiting and the page being
processed all count. The partition being consumed always has room for its next page while the
consumer processes one; the others read ahead only into what is left beyond those two, served in
plan order, and a partition's thread starts only once the budget could let it fetch. A page
larger than the whole budget still goes through, alone. Without a budget, each partition's queue
holds at most ``depth`` pages.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

_ITEM, _DONE, _ERROR = 0, 1, 2

Weight = tuple[int, int]
"""What a page weighs against a :class:`PageBudget`: (records, bytes)."""


class PageBudget:
    """Records and bytes the pages of one read-ahead may hold at once, shared by its partitions.

    Each holder (one partition's thread) reserves before fetching a page, settles the reservation
    to the page's real weight once it is fetched, and releases it when the consumer is done with
    the page. A reservation is the largest page seen so far; before the first page is known, the
    whole budget: only the partition being consumed fetches until then. A page larger than the
    budget is only ever fetched by that partition, when it holds nothing else.
    """

    def __init__(self, records: int, size: int) -> None:
        if records < 1 or size < 1:
            raise ValueError("a page budget needs at least 1 record and 1 byte")
        self.limit: Weight = (records, size)
        self._cond = threading.Condition()
        self._held: dict[object, list[int]] = {}
        self._used = [0, 0]
        self._expected: Weight | None = None
        self._waiting: dict[object, int] = {}
        self.peak: Weight = (0, 0)
        """The most records and bytes held at once (reservations included), for tests and tuning."""
        self.on_room: Callable[[], None] | None = None
        """Called (outside the budget's lock) after a page is settled or released: the read-ahead
        may start another partition's thread if :meth:`room_ahead` says it could fetch a page."""

    @property
    def used(self) -> Weight:
        with self._cond:
            return self._used[0], self._used[1]

    def _fits(self, holder: object, head: bool) -> bool:
        used = self._used
        mine = self._held.get(holder)
        if head and (mine is None or mine == [0, 0]):
            return True  # the consumer waits on this one, and the others left room for it (below)
        expected = self._expected
        if expected is None:
            return False  # the first page's weight is not known yet: the head's first page goes alone
        # the partitions read ahead of the consumer leave two pages free for the one it reads: the
        # page being processed and the next one, fetched meanwhile
        spare = (0, 0) if head else (2 * expected[0], 2 * expected[1])
        return (
            used[0] + expected[0] <= self.limit[0] - spare[0]
            and used[1] + expected[1] <= self.limit[1] - spare[1]
        )

    def room_ahead(self, idle: Iterable[object]) -> bool:
        """Whether one more partition read ahead could fetch a page now, besides the ``idle`` ones
        (started, holding nothing yet). A thread that cannot fetch is not worth starting: each
        thread that parses pages keeps its own malloc arena, whose free pages the process keeps."""
        with self._cond:
            expected = self._expected
            if expected is None:
                return False
            waiting = 3 + sum(1 for holder in idle if not any(self._held.get(holder, (0, 0))))
            used = self._used
            return (
                used[0] + waiting * expected[0] <= self.limit[0]
                and used[1] + waiting * expected[1] <= self.limit[1]
            )

    def _room_changed(self) -> None:
        listener = self.on_room
        if listener is not None:
            listener()

    def _add(self, holder: object, records: int, size: int) -> None:
        mine = self._held.setdefault(holder, [0, 0])
        mine[0] += records
        mine[1] += size
        self._used[0] += records
        self._used[1] += size
        self.peak = (max(self.peak[0], self._used[0]), max(self.peak[1], self._used[1]))

    def reserve(
        self, holder: object, head: Callable[[], bool], stop: threading.Event, order: int = 0
    ) -> Weight | None:
        """Wait until ``holder`` may fetch a page; answers the reservation, or None once ``stop`` is set.

        Holders wait their turn by ``order`` (their place in the plan): room goes to the partition
        the consumer reaches first, so what is held is what is handed over soonest.
        """
        with self._cond:
            self._waiting[holder] = order
            try:
                while not (min(self._waiting.values()) >= order and self._fits(holder, head())):
                    if stop.is_set():
                        return None
                    self._cond.wait()
            finally:
                del self._waiting[holder]
                self._cond.notify_all()
            if stop.is_set():
                return None
            reserved = self._expected or self.limit
            self._add(holder, *reserved)
            return reserved

    def settle(self, holder: object, reserved: Weight, weight: Weight | None) -> None:
        """Replace a reservation by the fetched page's ``weight`` (None: nothing was fetched)."""
        with self._cond:
            if holder in self._held:
                self._add(holder, -reserved[0], -reserved[1])
                if weight is not None:
                    self._add(holder, *weight)
            if weight is not None:
                expected = self._expected or (0, 0)
                self._expected = (max(expected[0], weight[0]), max(expected[1], weight[1]))
            self._cond.notify_all()
        self._room_changed()

    def release(self, holder: object, weight: Weight) -> None:
        """The consumer is done with a page of ``holder`` (or it was dropped unread)."""
        with self._cond:
            if holder in self._held:
                self._add(holder, -weight[0], -weight[1])
            self._cond.notify_all()
        self._room_changed()

    def forget(self, holder: object) -> None:
        """``holder`` ended or was cancelled: everything it holds or reserved is free again."""
        with self._cond:
            mine = self._held.pop(holder, None)
            if mine is not None:
                self._used[0] -= mine[0]
                self._used[1] -= mine[1]
            self._cond.notify_all()

    def wake(self) -> None:
        """Let waiting holders look again (one became the head, or was cancelled)."""
        with self._cond:
            self._cond.notify_all()


class _Task(Generic[T]):
    """One partition being fetched by its own thread into a queue (bounded by ``depth`` or the budget)."""

    def __init__(
        self,
        name: str,
        produce: Callable[[], Iterator[T]],
        depth: int,
        budget: PageBudget | None = None,
        weigh: Callable[[T], Weight] | None = None,
        order: int = 0,
    ) -> None:
        self._produce = produce
        self._order = order
        self._queue: queue.Queue[tuple[int, object, Weight]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._budget = budget
        self._weigh = weigh
        self.head = False
        """The consumer is reading this partition: the budget always leaves it room for a page."""
        self._thread = threading.Thread(target=self._run, name=f"trastpay-read-ahead-{name}", daemon=True)
        self._thread.start()

    def _is_head(self) -> bool:
        return self.head

    def _run(self) -> None:
        budget = self._budget
        try:
            if budget is None:
                for item in self._produce():
                    if self._stop.is_set():
                        return
                    self._queue.put((_ITEM, item, (0, 0)))
            else:
                self._run_budgeted(budget)
            self._queue.put((_DONE, None, (0, 0)))
        except BaseException as error:  # handed to the consumer, which re-raises it
            if not self._stop.is_set():
                self._queue.put((_ERROR, error, (0, 0)))

    def _run_budgeted(self, budget: PageBudget) -> None:
        weigh = self._weigh or (lambda _: (1, 1))
        pages = iter(self._produce())
        while True:
            reserved = budget.reserve(self, self._is_head, self._stop, self._order)
            if reserved is None:
                raise _Cancelled
            try:
                item = next(pages)
            except StopIteration:
                budget.settle(self, reserved, None)
                return
            except BaseException:
                budget.settle(self, reserved, None)
                raise
            weight = weigh(item)
            budget.settle(self, reserved, weight)
            if self._stop.is_set():
                raise _Cancelled
            self._queue.put((_ITEM, item, weight))

    def items(self) -> Iterator[T]:
        """The produced items in order; the producer's exception is raised where it happened.

        An item counts against the budget until the consumer asks for the next one.
        """
        budget = self._budget
        handed: Weight | None = None
        try:
            while True:
                kind, value, weight = self._queue.get()
                if kind == _ITEM:
                    handed = weight
                    yield value  # type: ignore[misc]  # _ITEM entries carry T
                    if budget is not None:
                        budget.release(self, weight)
                    handed = None
                elif kind == _DONE:
                    return
                else:
                    assert isinstance(value, BaseException)
                    raise value
        finally:
            if budget is not None and handed is not None:
                budget.release(self, handed)

    def cancel(self) -> None:
        """Stop after the page in flight; frees a producer blocked on a full queue or on the budget."""
        self._stop.set()
        if self._budget is not None:
            self._budget.forget(self)
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return


class _Cancelled(Exception):
    """The consumer no longer wants this partition's pages (raised in its thread, never handed over)."""


class ReadAhead(Generic[T]):
    """Ordered read-ahead over a plan of ``(key, produce)`` pairs.

    :meth:`take` returns the items of ``key`` (``None`` if it is not in the plan). Taking a key
    abandons the planned keys before it that were never taken, so a caller that skips around
    degrades to reading those inline, never to a deadlock.

    With a ``budget``, ``weigh`` gives each item's (records, bytes) and the budget bounds what all
    partitions hold together (see the module docstring); ``depth``, if given, still bounds each
    partition's queue. Without one, each queue holds at most ``depth`` (default 2) items.
    """

    def __init__(
        self,
        plan: Sequence[tuple[Hashable, Callable[[], Iterator[T]]]],
        *,
        workers: int,
        depth: int | None = None,
        budget: PageBudget | None = None,
        weigh: Callable[[T], Weight] | None = None,
    ) -> None:
        if depth is None:
            depth = 0 if budget is not None else 2  # 0: unbounded, the budget bounds it
        elif depth < 1:
            raise ValueError("workers and depth must be >= 1")
        if workers < 1:
            raise ValueError("workers and depth must be >= 1")
        self._pending: deque[tuple[Hashable, Callable[[], Iterator[T]]]] = deque(plan)
        self._active: OrderedDict[Hashable, _Task[T]] = OrderedDict()
        self._workers = workers
        self._depth = depth
        self._budget = budget
        self._weigh = weigh
        self._lock = threading.RLock()
        self._order = itertools.count()  # tasks are created in plan order
        self._closed = False
        if budget is not None:
            budget.on_room = self._more_room

    def _task(self, key: Hashable, produce: Callable[[], Iterator[T]]) -> _Task[T]:
        return _Task(str(key), produce, self._depth, self._budget, self._weigh, next(self._order))

    def _start_more(self) -> None:
        """Start the next planned partitions, up to ``workers`` at once and, with a budget, only
        while one more of them could fetch a page (the budget calls back when room appears)."""
        budget = self._budget
        while not self._closed and self._pending and len(self._active) < self._workers:
            if budget is not None and self._active:
                idle = [task for task in self._active.values() if not task.head]
                if not budget.room_ahead(idle):
                    return
            key, produce = self._pending.popleft()
            self._active[key] = self._task(key, produce)

    def _more_room(self) -> None:
        with self._lock:
            self._start_more()

    def take(self, key: Hashable) -> Iterator[T] | None:
        """The items of ``key`` in order, or ``None`` if ``key`` is not (or no longer) planned."""
        with self._lock:
            if self._closed:
                return None
            if key in self._active:
                for other in list(self._active):
                    if other == key:
                        break
                    self._active.pop(other).cancel()
            else:
                index = next((i for i, (planned, _) in enumerate(self._pending) if planned == key), None)
                if index is None:
                    return None
                for task in self._active.values():
                    task.cancel()
                self._active.clear()
                for _ in range(index):
                    self._pending.popleft()
                _, produce = self._pending.popleft()
                self._active[key] = self._task(key, produce)
            task = self._active[key]
            task.head = True
            self._start_more()
        if self._budget is not None:
            self._budget.wake()
        return self._drain(key, task)

    def _drain(self, key: Hashable, task: _Task[T]) -> Iterator[T]:
        try:
            yield from task.items()
        finally:
            with self._lock:
                if self._active.get(key) is task:
                    del self._active[key]
                task.cancel()
                self._start_more()

    def close(self) -> None:
        """Cancel everything still running or planned (the sync ended or failed)."""
        with self._lock:
            self._closed = True
            self._pending.clear()
            while self._active:
                _, task = self._active.popitem()
                task.cancel()


__all__ = ["PageBudget", "ReadAhead", "Weight"]
