"""A bounded backfill through PyAirbyte: a month deleted from DuckDB comes back, the state does not move.

A regular sync fills the cache; a month of card operations is deleted from its table, as a mistaken
``DELETE`` would; a PyAirbyte read with the ``backfill`` setting (docs/backfill.md) re-reads that
month. Afterwards the table equals the truth again and PyAirbyte's saved state (its
``_airbyte_state`` table) is exactly what it was before the backfill.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from trastpay.streams import get_stream
from trastpay_demo.pyairbyte_sync import RotatingConfig, open_warehouse, sync
from trastpay_demo.summary import start_instant
from trastpay_sandbox.testing import SandboxServer
from trastpay_sandbox.verify import compare_stream, duckdb_rows

pytestmark = pytest.mark.e2e

DEVICE_ID = "e2e-backfill"
CLIENT_ID = "trastpay-connectors"
START_DATE = "2026-06-01"
STREAMS = ["card_transactions", "statements", "events", "sync_audit"]
MONTH = ("2026-09-01", "2026-10-01")
SYNCS = "SELECT count(DISTINCT sync_id) FROM trastpay.sync_audit"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=1, history_days=120, seed=83) as server:
        yield server


def _saved_states(warehouse: Path) -> dict[str, bytes]:
    """Per stream, the state blob PyAirbyte saved (its ``_airbyte_state`` table), as bytes.

    The row also holds the record count PyAirbyte saw with it, which a backfill changes; the blob
    the next sync hands the connector is what must not.
    """
    connection = open_warehouse(warehouse)
    try:
        rows = connection.execute("SELECT stream_name, state_json FROM trastpay._airbyte_state").fetchall()
    finally:
        connection.close()
    return {str(name): orjson.dumps(orjson.loads(text)["stream"]["stream_state"]) for name, text in rows}


def test_given_a_deleted_month_when_backfilled_with_pyairbyte_then_it_is_back_and_the_state_is_unchanged(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    phone = sandbox.customers()[0]["phone"]
    tokens = sandbox.login(phone, device_id=DEVICE_ID, client_id=CLIENT_ID)
    base = {
        "base_url": sandbox.api_url,
        "client_id": CLIENT_ID,
        "device_id": DEVICE_ID,
        "refresh_token": tokens["refresh_token"],
        "start_date": START_DATE,
    }
    warehouse = tmp_path / "warehouse.duckdb"
    regular = RotatingConfig(base)
    assert sync(regular, warehouse, streams=STREAMS) > 0
    state_before = _saved_states(warehouse)

    connection = open_warehouse(warehouse)
    try:
        where = f"occurred_at >= TIMESTAMP '{MONTH[0]}' AND occurred_at < TIMESTAMP '{MONTH[1]}'"
        table = "trastpay.card_transactions"
        (removed,) = connection.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()  # noqa: S608
        connection.execute(f"DELETE FROM {table} WHERE {where}")  # noqa: S608
        (audits_before,) = connection.execute(SYNCS).fetchone()
    finally:
        connection.close()
    assert removed > 0, "the month holds no card operation: the case proves nothing"

    backfill = {"start_date": MONTH[0], "end_date": MONTH[1], "streams": ["card_transactions"]}
    filling = RotatingConfig({**regular.config, "backfill": backfill})
    refilled = sync(filling, warehouse, streams=STREAMS)

    connection = open_warehouse(warehouse)
    try:
        comparisons = [
            compare_stream(
                name,
                sandbox.truth(name, phone),
                list(duckdb_rows(connection, name, "trastpay")),
                primary_key=get_stream(name).primary_key,
                cursor_field=get_stream(name).cursor_field,
                since=start_instant(START_DATE),
            )
            for name in STREAMS
            if name != "sync_audit"
        ]
        audit = connection.execute(
            """SELECT stream, mode, records_emitted FROM trastpay.sync_audit WHERE sync_id =
               (SELECT sync_id FROM trastpay.sync_audit ORDER BY sync_started_at DESC LIMIT 1)"""
        ).fetchall()
        (audits_after,) = connection.execute(SYNCS).fetchone()
    finally:
        connection.close()
    failures = [c.describe() for c in comparisons if not c.ok]
    assert not failures, "\n".join(failures)
    assert _saved_states(warehouse) == state_before
    assert refilled >= removed
    assert audits_after == audits_before + 1
    assert {row[0] for row in audit} == {"card_transactions"}
    assert {row[1] for row in audit} == {"backfill"}
    assert sum(row[2] for row in audit) == refilled - len(audit)
