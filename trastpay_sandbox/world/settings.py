"""What a sandbox world is a function of (besides the clock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trastpay_sandbox.world.clock import TASHKENT


@dataclass(frozen=True)
class SandboxSettings:
    """Seed and size of the synthetic world.

    ``transactions``: approximate number of card transactions over the ``history_days`` before
    ``clock_start``, spread over all customers' cards; ``None`` means realistic volume (40-90
    operations a month per customer). ``cache_bytes`` bounds the cached serialized card days.
    """

    seed: int = 42
    customers: int = 5
    transactions: int | None = None
    history_days: int = 400
    clock_start: datetime = datetime(2026, 11, 1, 12, 0, tzinfo=TASHKENT)
    cache_bytes: int = 256 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError(f"customers must be >= 1, got {self.customers}")
        if self.transactions is not None and self.transactions < 0:
            raise ValueError(f"transactions must be >= 0 or None, got {self.transactions}")
        if self.history_days < 1:
            raise ValueError(f"history_days must be >= 1, got {self.history_days}")
        if self.clock_start.tzinfo is None:
            raise ValueError("clock_start must carry a UTC offset")
        if self.cache_bytes < 0:
            raise ValueError(f"cache_bytes must be >= 0, got {self.cache_bytes}")
