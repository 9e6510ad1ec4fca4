"""Fixtures of the Singer tap tests: one small sandbox per session, fresh logins per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trastpay_sandbox.testing import SandboxServer

from .tap_harness import login_config

_devices = itertools.count(1)


@pytest.fixture(scope="session")
def tap_sandbox() -> Iterator[SandboxServer]:
    """Three customers, four months of history: every stream shape, a sync in about a second."""
    with SandboxServer(customers=3, history_days=120, seed=42) as server:
        yield server


@pytest.fixture(scope="session")
def tap_phone(tap_sandbox: SandboxServer) -> str:
    """The customer with the most cards (partitioned streams get several partitions)."""
    customers = tap_sandbox.customers()
    return str(max(customers, key=lambda c: len(c["cards"]))["phone"])


@pytest.fixture
def tap_config(tap_sandbox: SandboxServer, tap_phone: str, tmp_path: Path) -> dict[str, Any]:
    """A config from a fresh OTP login on its own device, with a temp token store."""
    return login_config(tap_sandbox, tap_phone, tmp_path, device_id=f"tap-test-{next(_devices)}")
