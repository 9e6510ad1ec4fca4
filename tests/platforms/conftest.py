"""One short-token sandbox per platform test module (access tokens outlive no sync gap)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trastpay_sandbox.testing import SandboxServer

ACCESS_TOKEN_TTL_S = 600
"""Ten minutes: shorter than the one-hour gaps the schedules leave between most syncs."""


@pytest.fixture
def short_token_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(
        customers=1,
        history_days=20,
        clock_start="2026-11-01T12:00:00+05:00",
        access_token_ttl=ACCESS_TOKEN_TTL_S,
        refresh_token_ttl=6 * 3600,
    ) as server:
        yield server
