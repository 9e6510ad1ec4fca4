"""Shared worlds for the world-engine tests (construction is cheap; reading is lazy)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import pytest

from trastpay.streams import STREAMS as CONNECTOR_STREAMS
from trastpay_sandbox.world import TASHKENT, SandboxSettings, World

STREAMS = tuple(stream.name for stream in CONNECTOR_STREAMS)
"""Every stream the connectors read: the world must serve each of them."""
EARLIEST = datetime(2020, 1, 1, tzinfo=TASHKENT)
LATEST = datetime(2030, 1, 1, tzinfo=TASHKENT)


@pytest.fixture(scope="module")
def world() -> World:
    """The default world (seed 42, five customers); tests that move its clock build their own."""
    return World(SandboxSettings())


@pytest.fixture
def make_world() -> Callable[..., World]:
    def build(**overrides: Any) -> World:
        return World(SandboxSettings(**overrides))

    return build


def statement_items(
    world: World, customer_id: str, token: str, page_size: int = 1000, **options: Any
) -> list[Any]:
    """Every card transaction of one card, paged through ``statement_page``."""
    items: list[Any] = []
    page: int | None = 0
    while page is not None:
        body, page = world.statement_page(customer_id, token, EARLIEST, LATEST, page, page_size, **options)
        items.extend(orjson.loads(body))
    return items


def all_pages(
    world: World, customer_id: str, stream: str, limit: int, **filters: Any
) -> list[dict[str, Any]]:
    """Every item of a list stream paged with the after-key, as a connector would."""
    cursor = world.cursor_field(stream)
    keys = world.primary_key(stream)
    out: list[dict[str, Any]] = []
    after = None
    while True:
        items, more = world.list_page(customer_id, stream, after=after, limit=limit, **filters)
        out.extend(items)
        if not more:
            return out
        last = items[-1]
        after = (last[cursor] if cursor else "", ":".join(str(last[k]) for k in keys))
