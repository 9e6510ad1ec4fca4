"""singer-sdk's standard tap tests against a live sandbox.

``get_tap_test_class`` builds its test class when this module is imported, long before a sandbox
exists, and keeps the config dict it is given by reference. The class therefore gets a placeholder
config that the session fixture below fills in with a fresh login before the suite's runner syncs.
Streams of products a customer may not hold (loans, plans, deposits...) may be empty here; the
truth comparison in ``test_tap_sync_state.py`` checks that every stream holds exactly the
sandbox's records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_trastpay.tap import TapTrastpay
from trastpay.streams import STREAMS
from trastpay_sandbox.testing import SandboxServer

from .tap_harness import login_config

EVERY_CUSTOMER_HAS = {"cards", "card_transactions", "statements", "cashback_ledger", "events"}
PRODUCT_STREAMS = [s.name for s in STREAMS if s.name not in EVERY_CUSTOMER_HAS]
"""Streams of products a customer may not have: the suite may find no records in them."""

LIVE_CONFIG: dict[str, Any] = {
    "base_url": "http://127.0.0.1:9/api/v1/trastpay",
    "client_id": "placeholder",
    "device_id": "placeholder",
    "refresh_token": "placeholder",
    "start_date": "2026-08-01",
}


@pytest.fixture(scope="session", autouse=True)
def _live_config(
    tap_sandbox: SandboxServer, tap_phone: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store_dir: Path = tmp_path_factory.mktemp("standard-suite-tokens")
    LIVE_CONFIG.update(login_config(tap_sandbox, tap_phone, store_dir, device_id="tap-standard-suite"))


TestTapTrastpayStandard = get_tap_test_class(
    tap_class=TapTrastpay,
    config=LIVE_CONFIG,
    suite_config=SuiteConfig(max_records_limit=500, ignore_no_records_for_streams=PRODUCT_STREAMS),
    parse_env_config=False,
)
