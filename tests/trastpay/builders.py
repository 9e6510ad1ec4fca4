"""Fluent builders for core tests: configs, API answers, records and a fake clock."""

from __future__ import annotations

import copy
import threading
from datetime import datetime, timedelta
from typing import Any

from trastpay.config import TrastpayConfig, parse_config
from trastpay.cursors import TASHKENT
from trastpay.session import Partition, TrastpaySession
from trastpay.streams import get_stream

BASE_URL = "http://127.0.0.1:8765/api/v1/trastpay"
REFRESH_URL = f"{BASE_URL}/auth/refresh"
REFRESH_TOKEN = "rt_initial_SECRET_0001"
DEVICE_ID = "dev-warehouse-01"
CLIENT_ID = "acme-analytics"
NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=TASHKENT)
VALID_PAN = "8600301234566312"  # Luhn-valid, used only to prove it never leaks


def luhn_complete(prefix15: str) -> str:
    """Append the Luhn check digit to 15 digits."""
    total = 0
    for position, char in enumerate(reversed(prefix15)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return prefix15 + str((10 - total % 10) % 10)


class ConfigBuilder:
    """A valid raw config; ``with_`` overrides one field, ``without`` drops one."""

    def __init__(self) -> None:
        self._raw: dict[str, Any] = {
            "base_url": BASE_URL,
            "client_id": CLIENT_ID,
            "device_id": DEVICE_ID,
            "refresh_token": REFRESH_TOKEN,
            "start_date": "2026-01-01",
        }

    def with_(self, **fields: Any) -> ConfigBuilder:
        self._raw.update(fields)
        return self

    def without(self, name: str) -> ConfigBuilder:
        self._raw.pop(name, None)
        return self

    def raw(self) -> dict[str, Any]:
        return copy.deepcopy(self._raw)

    def build(self) -> TrastpayConfig:
        return parse_config(self.raw(), now=NOW)


def config(**fields: Any) -> TrastpayConfig:
    return ConfigBuilder().with_(**fields).build()


def token_answer(n: int, *, expires_in: int = 1800) -> dict[str, Any]:
    """The n-th successful refresh answer: access ``at_<n>``, refresh ``rt_<n>``."""
    return {
        "access_token": f"at_{n}",
        "refresh_token": f"rt_{n}",
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scopes": ["cards:read", "statements:read"],
    }


def problem(status: int, slug: str, detail: str = "", title: str | None = None) -> dict[str, Any]:
    return {
        "type": f"https://sandbox.trastpay.uz/problems/{slug}",
        "title": title or slug.replace("-", " ").capitalize(),
        "status": status,
        "detail": detail,
    }


def list_page(items: list[dict[str, Any]], next_page: str | int | None = None) -> dict[str, Any]:
    return {"items": items, "next_page": next_page}


def statement_request(
    card_token: str, start: str, end: str, page: int = 1, page_size: int = 1000
) -> dict[str, Any]:
    """The body the core must POST to ``/statement`` for one page of a card's window."""
    return {
        "card_token": card_token,
        "from": start,
        "to": end,
        "include_commission": True,
        "page": page,
        "page_size": page_size,
    }


def list_request(since: str, page_size: int = 1000, page_token: str | None = None) -> dict[str, list[str]]:
    """The query the core must send to a list endpoint, as ``parse_qs`` returns it."""
    query = {"page_size": [str(page_size)], "since": [since]}
    if page_token is not None:
        query["page_token"] = [page_token]
    return query


def at(days: float = 0, base: datetime = NOW) -> str:
    """A Tashkent RFC 3339 timestamp ``days`` after ``base`` (negative: before)."""
    return (base + timedelta(days=days)).isoformat()


def transfer(n: int, updated_at: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"trf_{n:06d}",
        "created_at": updated_at,
        "updated_at": updated_at,
        "status": "completed",
        "sender_card_token": "crd_A1",
        "sender_pan_masked": "860030******6311",
        "receiver_pan_masked": "986018******4421",
        "receiver_name": "Dilnoza Karimova",
        "amount_minor": 15200000,
        "amount": "152000.00",
        "currency": "UZS",
        "commission_minor": 38000,
        "total_minor": 15238000,
    }
    record.update(fields)
    return record


def card_transaction(
    n: int,
    occurred_at: str,
    card_token: str = "crd_A1",  # noqa: S107 - a card token, not a password
    **fields: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"txn_{n:06d}",
        "card_token": card_token,
        "occurred_at": occurred_at,
        "updated_at": occurred_at,
        "status": "posted",
        "type": "purchase",
        "amount_minor": -5000000,
        "amount": "-50000.00",
        "currency": "UZS",
        "commission_minor": 0,
        "merchant_name": "Korzinka",
        "counterparty_name": None,
        "counterparty_pan_masked": None,
        "description": "Purchase",
    }
    record.update(fields)
    return record


def card(token: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "card_token": token,
        "pan_masked": "860030******6311",
        "holder_name": "Aziz Rakhimov",
        "balance_minor": 100000,
        "currency": "UZS",
    }
    record.update(fields)
    return record


class FakeClock:
    """Monotonic time that only moves when told to (or when something sleeps on it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def quiet_session(**cfg: Any) -> TrastpaySession:
    """A session on ``config(**cfg)`` without retries or waits, at the fixed ``NOW``."""
    session = TrastpaySession(config(max_retries=0, **cfg), on_rotate=lambda token: None, clock=lambda: NOW)
    session.client.http.sleep = lambda seconds: None
    return session


def read_all(session: TrastpaySession, stream: str, partition: Partition, cursor: str | None) -> list[Any]:
    """Everything ``session.read`` yields for one partition: records and checkpoints."""
    return list(session.read(get_stream(stream), partition, cursor))
