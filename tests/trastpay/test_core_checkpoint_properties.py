"""Property: whatever the page split, lookback and offsets, checkpoints never move backwards and
never pass a record that has not been yielded; every record is yielded."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trastpay.client import ApiPage
from trastpay.cursors import TASHKENT, parse_instant
from trastpay.session import Checkpoint, Partition, TrastpaySession
from trastpay.streams import get_stream

from .builders import NOW, config, transfer

OFFSETS = [
    TASHKENT,
    parse_instant("2026-01-01T00:00:00Z").tzinfo,
    parse_instant("2026-01-01T00:00:00+03:00").tzinfo,
]


class PagedTransfers:
    """A stand-in client serving pre-split pages of transfers (the session's only collaborator)."""

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.server_time = None
        self.requests: list[dict[str, Any]] = []

    def ensure_login(self) -> str:
        return "at_1"

    def get_page(
        self, path: str, params: dict[str, Any] | None = None, *, scope: str | None = None
    ) -> ApiPage:
        self.requests.append(dict(params or {}))
        index = int((params or {}).get("page_token", "0"))
        next_page = str(index + 1) if index + 1 < len(self.pages) else None
        return ApiPage({"items": self.pages[index], "next_page": next_page}, True)

    def close(self) -> None:
        pass


@st.composite
def paged_records(draw: st.DrawFn) -> tuple[list[list[dict[str, Any]]], str | None, int]:
    minutes = sorted(
        draw(st.lists(st.integers(min_value=0, max_value=60 * 24 * 20), min_size=0, max_size=40))
    )
    base = NOW - timedelta(days=25)
    records = []
    for n, minute in enumerate(minutes):
        moment = (base + timedelta(minutes=minute)).astimezone(draw(st.sampled_from(OFFSETS)))
        records.append(transfer(n, moment.isoformat()))
    cuts = sorted(set(draw(st.lists(st.integers(min_value=0, max_value=len(records)), max_size=6))))
    bounds = [0, *cuts, len(records)]
    pages = [records[a:b] for a, b in itertools.pairwise(bounds)] or [[]]
    cursor_minute = draw(st.none() | st.integers(min_value=0, max_value=60 * 24 * 30))
    cursor = None if cursor_minute is None else (base + timedelta(minutes=cursor_minute)).isoformat()
    return pages, cursor, draw(st.integers(min_value=0, max_value=10))


@settings(max_examples=150, deadline=None)
@given(paged_records())
def test_given_any_page_split_when_reading_then_checkpoints_are_monotonic_and_never_ahead_of_records(
    case: tuple[list[list[dict[str, Any]]], str | None, int],
) -> None:
    pages, cursor, lookback = case
    fake = PagedTransfers(pages)
    session = TrastpaySession(
        config(lookback_days=lookback),
        on_rotate=lambda t: None,
        clock=lambda: NOW,
        client=fake,  # type: ignore[arg-type]
    )
    previous = parse_instant(cursor) if cursor else None
    seen_max = previous
    yielded = 0
    for item in session.read(get_stream("transfers"), Partition(None, {}), cursor):
        if isinstance(item, Checkpoint):
            if item.cursor is None:
                assert seen_max is None
                continue
            instant = parse_instant(item.cursor)
            assert previous is None or instant >= previous
            assert seen_max is not None
            assert instant <= seen_max
            previous = instant
        else:
            yielded += 1
            moment = parse_instant(item["updated_at"])
            seen_max = moment if seen_max is None or moment > seen_max else seen_max
    if cursor is not None and parse_instant(cursor) > NOW:
        assert (yielded, fake.requests) == (0, [])
        assert previous == parse_instant(cursor)
    else:
        assert yielded == sum(len(page) for page in pages)
        assert len({r["since"] for r in fake.requests}) == 1


def test_given_core_package_when_imported_then_no_sdk_or_backoff_module_is_loaded() -> None:
    code = (
        "import sys, trastpay.session, trastpay.token_store, trastpay.records, trastpay.config;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('airbyte_cdk', 'singer_sdk', 'backoff')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout
