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
    ``cards_per_customer``: link exactly that many soum cards to every customer (for load and
    latency scenarios that need many partitions); ``None`` means the realistic 1-3 soum cards and
    sometimes a USD card.
    """

    seed: int = 42
    customers: int = 5
    transactions: int | None = None
    history_days: int = 400
    clock_start: datetime = datetime(2026, 11, 1, 12, 0, tzinfo=TASHKENT)
    cache_bytes: int = 256 * 1024 * 1024
    cards_per_customer: int | None = None

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError(f"customers must be >= 1, got {self.customers}")
        if self.transactions is not None and self.transactions < 0:
            raise ValueError(f"transactions must be >= 0 or None, got {self.transactions}")
        if self.history_days < 1:
            raise ValueError(f"history_days must be >= 1, got {self.history_days}")
        if self.clock_start.tzinfo is None:
            raise ValueError("clock_start must carry a UTC offset")
        if self.cards_per_customer is not None and not 1 <= self.cards_per_customer <= 200:
            raise ValueError(f"cards_per_customer must be between 1 and 200, got {self.cards_per_customer}")
        if self.cache_bytes < 0:
            raise ValueError(f"cache_bytes must be >= 0, got {self.cache_bytes}")
