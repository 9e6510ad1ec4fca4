"""Which path into PostgreSQL keeps the API's text exact (docs/warehouse.md, Loading paths).

target-postgres stores every field as the API sent it. PyAirbyte's PostgresCache reads its batches
through pandas and alters text: long digit strings become floats, codes gain ``.0``, decimal
strings lose their scale, and statements.period_start keeps Tashkent wall time beside UTC
updated_at. The second test pins that damage down, so the docs change when PyAirbyte fixes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from trastpay_demo.pyairbyte_sync import prepare_offline_environment, source_executable
from trastpay_sandbox.testing import SandboxServer

from .conftest import CLIENT_ID, START_DATE, BuiltWarehouse
from .postgres_cluster import DATABASE, USER, PostgresCluster

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

FIELDS = (
    ("deposits", "id", "account_number"),
    ("cards", "card_token", "bank_mfo"),
    ("card_transactions", "id", "mcc"),
    ("card_transactions", "id", "amount"),
)


def _loaded(cluster: PostgresCluster, schema: str, table: str, key: str, field: str) -> dict[str, Any]:
    with psycopg.connect(cluster.url) as connection:
        rows = connection.execute(f'SELECT "{key}", "{field}" FROM "{schema}"."{table}"').fetchall()  # noqa: S608
    return {str(k): v for k, v in rows}


def _truth(sandbox: SandboxServer, phone: str, table: str, key: str, field: str) -> dict[str, Any]:
    return {str(r[key]): r[field] for r in sandbox.truth(table, phone) if r[field] is not None}


def test_given_target_postgres_when_loaded_then_text_fields_equal_the_api(
    postgres_warehouse: BuiltWarehouse,
    postgres_cluster: PostgresCluster,
    warehouse_sandbox: SandboxServer,
    warehouse_phone: str,
) -> None:
    for table, key, field in FIELDS:
        truth = _truth(warehouse_sandbox, warehouse_phone, table, key, field)
        loaded = _loaded(postgres_cluster, "trastpay", table, key, field)
        assert truth
        assert {k: loaded.get(k) for k in truth} == truth, f"{table}.{field}"


def test_given_pyairbyte_postgres_cache_when_loaded_then_text_fields_are_altered(
    postgres_cluster: PostgresCluster, warehouse_sandbox: SandboxServer, warehouse_phone: str, tmp_path: Path
) -> None:
    prepare_offline_environment()
    import airbyte
    from airbyte.caches import PostgresCache

    tokens = warehouse_sandbox.login(warehouse_phone, device_id="pyairbyte-postgres", client_id=CLIENT_ID)
    source = airbyte.get_source(
        "source-trastpay",
        config={
            "base_url": warehouse_sandbox.api_url,
            "client_id": CLIENT_ID,
            "device_id": "pyairbyte-postgres",
            "refresh_token": tokens["refresh_token"],
            "start_date": START_DATE,
        },
        local_executable=source_executable(),
    )
    source.select_streams(["cards", "deposits", "card_transactions", "statements"])
    cache = PostgresCache(
        host=postgres_cluster.host,
        port=postgres_cluster.port,
        username=USER,
        password="",
        database=DATABASE,
        schema_name="pyairbyte",
        cache_dir=tmp_path / "cache",
    )
    try:
        source.read(cache=cache)
    finally:
        cache.close()

    altered = {}
    for table, key, field in FIELDS:
        truth = _truth(warehouse_sandbox, warehouse_phone, table, key, field)
        loaded = _loaded(postgres_cluster, "pyairbyte", table, key, field)
        assert set(truth) <= set(loaded), f"{table}: every record arrives"
        altered[f"{table}.{field}"] = sum(1 for k, v in truth.items() if loaded[k] != v)
    assert all(count > 0 for count in altered.values()), altered
    with psycopg.connect(postgres_cluster.url) as connection:
        first = connection.execute(
            "SELECT period_start, updated_at FROM pyairbyte.statements"
            " WHERE is_final ORDER BY period_start LIMIT 1"
        ).fetchone()
    assert first is not None
    period_start, updated_at = first
    assert (period_start.hour, updated_at.hour) == (0, 19), "period_start in Tashkent time, updated_at in UTC"
