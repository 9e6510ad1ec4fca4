"""Serving card transactions: day caches bounded in bytes, and statement pages joined from them.

A day is *settled* once every operation in it is past the settlement window at the current clock;
its serialized JSON never changes again and is kept in an LRU bounded by ``cache_bytes``. Days
still settling are serialized per clock value in a small side cache cleared when the clock moves.
"""

from __future__ import annotations

import zlib
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from trastpay_sandbox.world.card_activity import SETTLEMENT_DAYS, CardPlan, Tx, generate_day
from trastpay_sandbox.world.clock import day_start, local_day
from trastpay_sandbox.world.rng import gc_paused
from trastpay_sandbox.world.tx_views import serialize_day

K = TypeVar("K")
V = TypeVar("V")
_RAW_TX_BYTES = 450


class SizedLru(Generic[K, V]):
    """An LRU map whose total of caller-declared sizes stays within ``budget``."""

    def __init__(self, budget: int, on_evict: Callable[[K, V], None] | None = None) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._on_evict = on_evict

    def get(self, key: K) -> V | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        self._items.move_to_end(key)
        return hit[0]

    def put(self, key: K, value: V, size: int) -> None:
        if size > self.budget:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= old[1]
        self._items[key] = (value, size)
        self.size += size
        while self.size > self.budget:
            evicted, (value_out, dropped) = self._items.popitem(last=False)
            self.size -= dropped
            if self._on_evict is not None:
                self._on_evict(evicted, value_out)

    def __len__(self) -> int:
        return len(self._items)


Blob = tuple[bytes, "array[int]"]
BlobKey = tuple[str, int, bool]


class CardStore:
    """Lazy access to every card's days: raw operations, serialized records, statement pages."""

    def __init__(self, seed: int, cache_bytes: int) -> None:
        self.seed = seed
        self.plans: dict[str, CardPlan] = {}
        # Of ``cache_bytes``: 1/8 raw operations, 3/8 serialized days, 2/8 serialized days evicted
        # from that tier and kept zlib-compressed (JSON shrinks ~10x, so a million records fit);
        # the lazy event and cashback caches take the remaining quarter.
        self._raw: SizedLru[tuple[str, int], list[Tx]] = SizedLru(cache_bytes // 8)
        self._zipped: SizedLru[BlobKey, Blob] = SizedLru(cache_bytes // 4)
        self._blobs: SizedLru[BlobKey, Blob] = SizedLru(cache_bytes * 3 // 8, on_evict=self._compress)
        self._unzipped: tuple[BlobKey, Blob] | None = None
        self._volatile: dict[tuple[str, int, bool], Blob] = {}
        self._volatile_now = -1

    def add(self, plan: CardPlan) -> None:
        self.plans[plan.spec.token] = plan

    def day(self, token: str, day: int) -> list[Tx]:
        key = (token, day)
        txs = self._raw.get(key)
        if txs is None:
            with gc_paused():
                txs = generate_day(self.seed, self.plans[token], day)
            self._raw.put(key, txs, 64 + _RAW_TX_BYTES * len(txs))
        return txs

    @staticmethod
    def settled(day: int, now: int) -> bool:
        return day_start(day + SETTLEMENT_DAYS + 1) <= now

    def day_blob(self, token: str, day: int, now: int, include_commission: bool) -> Blob:
        key = (token, day, include_commission)
        plan = self.plans[token]
        if self.settled(day, now):
            blob = self._blobs.get(key)
            if blob is not None:
                return blob
            if self._unzipped is not None and self._unzipped[0] == key:
                return self._unzipped[1]
            zipped = self._zipped.get(key)
            if zipped is not None:
                blob = (zlib.decompress(zipped[0]), zipped[1])
                self._unzipped = (key, blob)
                return blob
            txs = self.day(token, day)
            with gc_paused():
                text, offsets = serialize_day(txs, plan.spec, now, include_commission)
            blob = (text, array("I", offsets))
            self._blobs.put(key, blob, len(text) + 4 * len(offsets) + 100)
            return blob
        if now != self._volatile_now:
            self._volatile.clear()
            self._volatile_now = now
        blob = self._volatile.get(key)
        if blob is None:
            text, offsets = serialize_day(self.day(token, day), plan.spec, now, include_commission)
            blob = self._volatile[key] = (text, array("I", offsets))
        return blob

    def _compress(self, key: BlobKey, blob: Blob) -> None:
        packed = zlib.compress(blob[0], 1)
        self._zipped.put(key, (packed, blob[1]), len(packed) + 4 * len(blob[1]) + 100)

    def segments(self, token: str, start: int, end: int, now: int) -> list[tuple[int, int, int]]:
        """``(day, lo, hi)``: the index ranges of each day's operations with ``start <= occ < end``
        that exist at ``now`` (occurred at or before it)."""
        plan = self.plans[token]
        upper = min(end, now + 1)
        if start >= upper:
            return []
        first = max(local_day(start), plan.first_day)
        last = min(local_day(upper - 1), plan.last_day)
        out: list[tuple[int, int, int]] = []
        for day in range(first, last + 1):
            count = plan.count(day)
            if count == 0:
                continue
            if day_start(day) >= start and day_start(day + 1) <= upper:
                out.append((day, 0, count))
                continue
            occs = [t.occ for t in self.day(token, day)]
            lo, hi = bisect_left(occs, start), bisect_left(occs, upper)
            if hi > lo:
                out.append((day, lo, hi))
        return out

    def statement_page(
        self, token: str, start: int, end: int, now: int, page: int, page_size: int, include_commission: bool
    ) -> tuple[bytes, int | None]:
        segments = self.segments(token, start, end, now)
        total = sum(hi - lo for _, lo, hi in segments)
        skip = page * page_size
        if skip >= total:
            return b"[]", None
        want = min(page_size, total - skip)
        chunks: list[bytes] = []
        for day, lo, hi in segments:
            size = hi - lo
            if skip >= size:
                skip -= size
                continue
            a = lo + skip
            b = min(hi, a + want)
            skip = 0
            blob, offsets = self.day_blob(token, day, now, include_commission)
            chunks.append(blob[offsets[a] : offsets[b] - 1])
            want -= b - a
            if want == 0:
                break
        next_page = page + 1 if (page + 1) * page_size < total else None
        return b"[" + b",".join(chunks) + b"]", next_page

    def iter_txs(self, token: str, start: int, end: int, now: int) -> Iterator[Tx]:
        for day, lo, hi in self.segments(token, start, end, now):
            yield from self.day(token, day)[lo:hi]
