"""Fault switches that make the sandbox misbehave the ways a real partner API does.

Every switch is off unless configured (CLI ``--faults`` at start, ``POST /_sandbox/faults`` at
run time). Faults hit the data routes under ``/api/v1/trastpay`` only: not ``/auth/*`` (so a
client's token rotation is never ambiguous) and never the ``/_sandbox`` hooks. Random choices
come from a seeded RNG, so a run with the same seed and request sequence fails the same way.
Each switch counts the faults it served; ``GET /_sandbox/faults`` shows the counters.

Switches (unknown keys are rejected):

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
``huge_page``, ``record_secrets``) change what a data answer *says*; they are validated and
documented in :mod:`trastpay_sandbox.hostile` and applied by
:mod:`trastpay_sandbox.hostile_middleware`.

Session switches (``journal``, ``revoke_access_after_pages``, ``lose_refresh_answer``,
``late_visible``, ``coarse_cursors``) record requests, revoke access tokens mid-pagination, lose a
token refresh answer after the server rotated, hide records until later, and make many records
share one cursor value; they are validated, documented and applied
in :mod:`trastpay_sandbox.session_faults` (``GET /_sandbox/requests`` reads the journal).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FAULT_KEYS: tuple[str, ...] = (
    "latency_ms",
    "rate_limit_storm",
    "error_rate",
    "connection_reset",
    "slow_response",
    "malformed_page",
    "expire_token_after_pages",
    "per_token_rps",
    # hostile-data switches: trastpay_sandbox.hostile
    "corrupt_page",
    "schema_drift",
    "hostile_strings",
    "plant_pan",
    "huge_page",
    "record_secrets",
    # session switches: trastpay_sandbox.session_faults
    "journal",
    "revoke_access_after_pages",
    "lose_refresh_answer",
    "late_visible",
    "coarse_cursors",
)
_SERVER_ERRORS = (500, 502, 503, 504)
_SESSION_KEYS = frozenset(
    ("journal", "revoke_access_after_pages", "lose_refresh_answer", "late_visible", "coarse_cursors")
)
_HOSTILE_KEYS = frozenset(
    ("corrupt_page", "schema_drift", "hostile_strings", "plant_pan", "huge_page", "record_secrets")
)


class FaultConfigError(ValueError):
    """A fault configuration is invalid; ``field`` names the offending key (dotted path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _number(
    field: str, value: object, *, minimum: float, maximum: float | None = None, exclusive_min: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultConfigError(field, "must be a number")
    too_low = value <= minimum if exclusive_min else value < minimum
    if too_low or (maximum is not None and value > maximum) or not math.isfinite(value):
        bound = f"> {minimum}" if exclusive_min else f">= {minimum}"
        if maximum is not None:
            bound += f" and <= {maximum}"
        raise FaultConfigError(field, f"must be {bound}, got {value}")
    return float(value)


def _integer(field: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultConfigError(field, "must be an integer")
    if value < minimum:
        raise FaultConfigError(field, f"must be >= {minimum}, got {value}")
    return value


def _object(field: str, value: object, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FaultConfigError(field, "must be an object")
    for key in value:
        if key not in allowed:
            raise FaultConfigError(f"{field}.{key}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
    for key in sorted(required):
        if key not in value:
            raise FaultConfigError(f"{field}.{key}", "is required")
    return value


def _one_of(field: str, spec: Mapping[str, Any], a: str, b: str) -> None:
    if (a in spec) == (b in spec):
        raise FaultConfigError(field, f"give exactly one of '{a}' or '{b}'")


def _hostile(key: str, value: object) -> Any:
    from trastpay_sandbox.hostile import HostileConfigError, validate_hostile

    try:
        return validate_hostile(key, value)
    except HostileConfigError as exc:
        raise FaultConfigError(exc.field, str(exc).partition(": ")[2]) from None


def validate_faults(raw: object) -> dict[str, Any]:
    """Check a fault configuration and return it normalised; :class:`FaultConfigError` names the bad key."""
    spec = _object("faults", raw, set(FAULT_KEYS), set()) if raw is not None else {}
    out: dict[str, Any] = {}
    for key, value in spec.items():
        name = f"faults.{key}"
        if key == "latency_ms":
            out[key] = _integer(name, value, minimum=0)
        elif key == "rate_limit_storm":
            storm = _object(name, value, {"duration_s", "retry_after_s"}, {"duration_s"})
            out[key] = {
                "duration_s": _number(
                    f"{name}.duration_s", storm["duration_s"], minimum=0, exclusive_min=True
                ),
                "retry_after_s": _integer(f"{name}.retry_after_s", storm.get("retry_after_s", 1), minimum=1),
            }
        elif key == "error_rate":
            err = _object(name, value, {"ratio", "duration_s", "status"}, {"ratio"})
            status = _integer(f"{name}.status", err.get("status", 503), minimum=500)
            if status not in _SERVER_ERRORS:
                raise FaultConfigError(f"{name}.status", f"must be one of {_SERVER_ERRORS}")
            duration = err.get("duration_s")
            out[key] = {
                "ratio": _number(f"{name}.ratio", err["ratio"], minimum=0, maximum=1, exclusive_min=True),
                "duration_s": None
                if duration is None
                else _number(f"{name}.duration_s", duration, minimum=0, exclusive_min=True),
                "status": status,
            }
        elif key in ("connection_reset", "slow_response"):
            allowed = {"ratio", "every_n"} | ({"delay_s"} if key == "slow_response" else set())
            sel = _object(name, value, allowed, {"delay_s"} if key == "slow_response" else set())
            _one_of(name, sel, "ratio", "every_n")
            entry: dict[str, Any] = (
                {"ratio": _number(f"{name}.ratio", sel["ratio"], minimum=0, maximum=1, exclusive_min=True)}
                if "ratio" in sel
                else {"every_n": _integer(f"{name}.every_n", sel["every_n"], minimum=1)}
            )
            if key == "slow_response":
                entry["delay_s"] = _number(
                    f"{name}.delay_s", sel["delay_s"], minimum=0, maximum=600, exclusive_min=True
                )
            out[key] = entry
        elif key == "malformed_page":
            sel = _object(name, value, {"every_n", "next_n"}, set())
            _one_of(name, sel, "every_n", "next_n")
            which = "every_n" if "every_n" in sel else "next_n"
            out[key] = {which: _integer(f"{name}.{which}", sel[which], minimum=1)}
        elif key == "expire_token_after_pages":
            out[key] = _integer(name, value, minimum=1)
        elif key in _HOSTILE_KEYS:
            out[key] = _hostile(key, value)
        elif key in _SESSION_KEYS:
            from trastpay_sandbox.session_faults import validate_session_fault

            out[key] = validate_session_fault(key, value)
        else:
            out[key] = _number(name, value, minimum=0, exclusive_min=True)
    return out


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
