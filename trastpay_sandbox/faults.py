"""Fault switches that make the sandbox misbehave the ways a real partner API does.

Every switch is off unless configured (CLI ``--faults`` at start, ``POST /_sandbox/faults`` at
run time). Faults hit the data routes under ``/api/v1/trastpay`` only: not ``/auth/*`` (so a
client's token rotation is never ambiguous) and never the ``/_sandbox`` hooks. Random choices
come from a seeded RNG, so a run with the same seed and request sequence fails the same way.
Each switch counts the faults it served; ``GET /_sandbox/faults`` shows the counters.

Switches (declared, with their JSON Schema from ``openapi.yaml``, in
:mod:`trastpay_sandbox.switches`, which validates them; unknown keys are rejected):

``latency_ms`` int
    added to every data request.
``rate_limit_storm`` {duration_s, retry_after_s}
    429 + ``Retry-After`` for every data request during the window.
``error_rate`` {ratio, duration_s?, status?}
    5xx (default 503) for a ``ratio`` of requests, for ``duration_s`` (default: until cleared).

Windows (``duration_s``) open at the first data request after the switches were set, so a
client that takes a while to start still meets the fault.
``connection_reset`` {ratio | every_n}
    headers promise more bytes than are sent, then the connection is closed.
``slow_response`` {delay_s, ratio | every_n}
    the response is delayed ``delay_s`` (meant to exceed the client's read timeout).
``malformed_page`` {every_n | next_n}
    a 200 data page whose JSON is cut in half.
``expire_token_after_pages`` int
    an access token expires after serving that many data pages.
``per_token_rps`` number
    a token bucket per access token; over the rate: 429 + ``Retry-After``.

Hostile-data switches (``corrupt_page``, ``schema_drift``, ``hostile_strings``, ``plant_pan``,
``huge_page``, ``record_secrets``) change what a data answer *says*; they are documented in
:mod:`trastpay_sandbox.hostile` and applied by :mod:`trastpay_sandbox.hostile_middleware`.

Session switches (``journal``, ``revoke_access_after_pages``, ``lose_refresh_answer``,
``late_visible``, ``coarse_cursors``) record requests, revoke access tokens mid-pagination, lose a
token refresh answer after the server rotated, hide records until later, and make many records
share one cursor value; they are documented and applied in
:mod:`trastpay_sandbox.session_faults` (``GET /_sandbox/requests`` reads the journal).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trastpay_sandbox.switches import FAULT_KEYS, validate_faults


@dataclass(slots=True)
class FaultDecision:
    """What to do to one data request before it reaches its handler."""

    delay_s: float = 0.0
    status: int | None = None
    retry_after_s: int | None = None
    reset: bool = False


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class Faults:
    """The live fault configuration, its windows, counters and RNG."""

    def __init__(self, initial: Mapping[str, Any] | None = None, *, seed: int = 42) -> None:
        self._seed = seed
        self.configure(dict(initial or {}))

    def configure(self, raw: object) -> None:
        """Replace the whole configuration (validated), restart windows and reset the counters."""
        self.config = validate_faults(raw)
        self._started: float | None = None
        self._rng = random.Random(self._seed)
        self._seen: dict[str, int] = dict.fromkeys(FAULT_KEYS, 0)
        self.counters: dict[str, int] = dict.fromkeys(FAULT_KEYS, 0)
        self.requests = 0
        self.pages = 0
        self._buckets: dict[str, _Bucket] = {}
        malformed = self.config.get("malformed_page", {})
        self._malformed_left = int(malformed.get("next_n", 0))

    def clear(self) -> None:
        """Turn every switch off; counters stay readable until the next :meth:`configure`."""
        self.config = {}

    @property
    def active(self) -> bool:
        return bool(self.config)

    def snapshot(self) -> dict[str, Any]:
        return {
            "faults": self.config,
            "counters": dict(self.counters),
            "requests": self.requests,
            "pages": self.pages,
        }

    def _fires(self, key: str, spec: Mapping[str, Any]) -> bool:
        self._seen[key] += 1
        if "every_n" in spec:
            return self._seen[key] % int(spec["every_n"]) == 0
        return self._rng.random() < float(spec["ratio"])

    def decide(self, token_key: str) -> FaultDecision:
        """Decide the faults of one data request (``token_key`` identifies the caller's token)."""
        self.requests += 1
        decision = FaultDecision()
        config = self.config
        if not config:
            return decision
        if self._started is None:
            self._started = time.monotonic()
        elapsed = time.monotonic() - self._started
        if "latency_ms" in config:
            decision.delay_s += config["latency_ms"] / 1000
            self.counters["latency_ms"] += 1
        storm = config.get("rate_limit_storm")
        if storm is not None and elapsed < storm["duration_s"]:
            self.counters["rate_limit_storm"] += 1
            decision.status, decision.retry_after_s = 429, int(storm["retry_after_s"])
            return decision
        rps = config.get("per_token_rps")
        if rps is not None:
            wait = self._take(token_key, float(rps))
            if wait > 0:
                self.counters["per_token_rps"] += 1
                decision.status, decision.retry_after_s = 429, max(1, math.ceil(wait))
                return decision
        errors = config.get("error_rate")
        in_window = errors is not None and (errors["duration_s"] is None or elapsed < errors["duration_s"])
        if errors is not None and in_window and self._fires("error_rate", errors):
            self.counters["error_rate"] += 1
            decision.status = int(errors["status"])
            return decision
        reset = config.get("connection_reset")
        if reset is not None and self._fires("connection_reset", reset):
            self.counters["connection_reset"] += 1
            decision.reset = True
            return decision
        slow = config.get("slow_response")
        if slow is not None and self._fires("slow_response", slow):
            self.counters["slow_response"] += 1
            decision.delay_s += float(slow["delay_s"])
        return decision

    def _take(self, token_key: str, rps: float) -> float:
        now = time.monotonic()
        capacity = max(1.0, rps)
        bucket = self._buckets.get(token_key)
        if bucket is None:
            bucket = self._buckets[token_key] = _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rps)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rps

    def page_served(self) -> tuple[bool, int | None]:
        """Count a 200 data page; answer (truncate it?, expire the token after how many pages?)."""
        self.pages += 1
        truncate = False
        malformed = self.config.get("malformed_page")
        if malformed is not None:
            if "every_n" in malformed:
                truncate = self.pages % int(malformed["every_n"]) == 0
            elif self._malformed_left > 0:
                self._malformed_left -= 1
                truncate = True
        if truncate:
            self.counters["malformed_page"] += 1
        expire_after = self.config.get("expire_token_after_pages")
        return truncate, expire_after
