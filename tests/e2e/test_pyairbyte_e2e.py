"""End to end as a data team runs it: PyAirbyte drives source-trastpay into DuckDB.

Full sync, advance the sandbox clock (holds post or reverse, new activity appears), incremental
sync, then every deduplicated table must equal the sandbox truth: same primary keys, every field
(latest status included) and every ``*_minor`` sum to the tiyin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trastpay_demo.pyairbyte_sync import RotatingConfig, open_warehouse, sync
from trastpay_demo.summary import compare_with_truth, start_instant
from trastpay_sandbox.login_config import login_config
from trastpay_sandbox.testing import SandboxServer

pytestmark = pytest.mark.e2e

DEVICE_ID = "e2e-device"
CLIENT_ID = "trastpay-connectors"
START_DATE = "2026-05-01"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=2, seed=7) as server:
        yield server


def test_given_full_then_incremental_pyairbyte_syncs_when_compared_then_duckdb_equals_truth(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    phone = sandbox.customers()[0]["phone"]
    config = RotatingConfig(
        login_config(sandbox, phone=phone, device_id=DEVICE_ID, client_id=CLIENT_ID, start_date=START_DATE),
        persist_to=tmp_path / "config.json",
    )
    warehouse = tmp_path / "warehouse.duckdb"

    first = sync(config, warehouse)
    sandbox.advance("P3D")
    second = sync(config, warehouse)

    assert first > 0
    assert second > 0, "the incremental sync re-reads the settlement window and the new days"
    assert config.rotations >= 2, "each run rotates the refresh token and hands it back to PyAirbyte"
    assert (tmp_path / "config.json").stat().st_mode & 0o777 == 0o600
    connection = open_warehouse(warehouse)
    try:
        comparisons = compare_with_truth(
            connection,
            "trastpay",
            lambda stream: sandbox.truth(stream, phone),
            since=start_instant(START_DATE),
        )
    finally:
        connection.close()
    failures = [c.describe() for c in comparisons if not c.ok]
    assert not failures, "\n".join(failures)
    assert all(
        c.truth_count > 0 for c in comparisons if c.stream in {"card_transactions", "transfers", "events"}
    )
