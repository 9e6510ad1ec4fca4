"""Read ahead: fetch upcoming partitions in background threads, hand their pages over in order.

A sync over many cards is bound by round trips, not by CPU: one card at a time leaves the
connection idle while a page travels. :class:`ReadAhead` runs up to ``workers`` partitions at
once, each in its own daemon thread that pulls pages into a small bounded queue, while the caller
still consumes partitions one after another in plan order. So records, checkpoints and errors
reach the adapters exactly as a serial read would produce them (a checkpoint never covers a page
that was not handed over, an error surfaces after every earlier page), memory stays bounded by
``workers * (depth + 1)`` pages, and the shared request budget still caps the request rate.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

_ITEM, _DONE, _ERROR = 0, 1, 2


class _Task(Generic[T]):
    """One partition being fetched by its own thread into a bounded queue."""

    def __init__(self, name: str, produce: Callable[[], Iterator[T]], depth: int) -> None:
        self._produce = produce
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"trastpay-read-ahead-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self._produce():
                if self._stop.is_set():
                    return
                self._queue.put((_ITEM, item))
            self._queue.put((_DONE, None))
        except BaseException as error:  # handed to the consumer, which re-raises it
            if not self._stop.is_set():
                self._queue.put((_ERROR, error))

    def items(self) -> Iterator[T]:
        """The produced items in order; the producer's exception is raised where it happened."""
        while True:
            kind, value = self._queue.get()
            if kind == _ITEM:
                yield value  # type: ignore[misc]  # _ITEM entries carry T
            elif kind == _DONE:
                return
            else:
                assert isinstance(value, BaseException)
                raise value

    def cancel(self) -> None:
        """Stop after the page in flight; frees a producer blocked on a full queue."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return


class ReadAhead(Generic[T]):
    """Ordered read-ahead over a plan of ``(key, produce)`` pairs.

    :meth:`take` returns the items of ``key`` (``None`` if it is not in the plan). Taking a key
    abandons the planned keys before it that were never taken, so a caller that skips around
    degrades to reading those inline, never to a deadlock.
    """

    def __init__(
        self,
        plan: Sequence[tuple[Hashable, Callable[[], Iterator[T]]]],
        *,
        workers: int,
        depth: int = 2,
    ) -> None:
        if workers < 1 or depth < 1:
            raise ValueError("workers and depth must be >= 1")
        self._pending: deque[tuple[Hashable, Callable[[], Iterator[T]]]] = deque(plan)
        self._active: OrderedDict[Hashable, _Task[T]] = OrderedDict()
        self._workers = workers
        self._depth = depth
        self._lock = threading.Lock()
        self._closed = False

    def _start_more(self) -> None:
        while not self._closed and self._pending and len(self._active) < self._workers:
            key, produce = self._pending.popleft()
            self._active[key] = _Task(str(key), produce, self._depth)

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
                self._active[key] = _Task(str(key), produce, self._depth)
            self._start_more()
            task = self._active[key]
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


__all__ = ["ReadAhead"]
