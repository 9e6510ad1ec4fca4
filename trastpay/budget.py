"""One request budget for the whole sync.

Every thread and partition draws from the same token bucket (``requests_per_second``), so adding
partitions never multiplies the load on the API. After a 429 the budget also closes for everyone
until the server's ``Retry-After`` has passed: one throttled partition slows all of them instead
of each hammering the API on its own schedule.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RequestBudget:
    """Thread-safe token bucket plus a global "not before" gate.

    ``acquire`` reserves a slot under the lock and sleeps outside it, so waiting threads do not
    block each other's bookkeeping; reservations are served in order.
    """

    def __init__(
        self,
        requests_per_second: float | None,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests_per_second is not None and requests_per_second <= 0:
            raise ValueError("requests_per_second must be greater than 0")
        self.rate = requests_per_second
        self.capacity = burst if burst is not None else max(1.0, requests_per_second or 1.0)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.capacity
        self._updated = clock()
        self._not_before = 0.0

    def _reserve(self) -> float:
        """Take one slot now and return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            wait = max(0.0, self._not_before - now)
            if self.rate is not None:
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                self._tokens -= 1.0
                if self._tokens < 0:
                    wait = max(wait, -self._tokens / self.rate)
            return wait

    def acquire(self) -> float:
        """Block until one request may be sent; returns the seconds waited."""
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """Close the budget for everyone for ``seconds`` (after a 429); never shortens a pause."""
        if seconds <= 0:
            return
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    @property
    def paused_until(self) -> float:
        with self._lock:
            return self._not_before
