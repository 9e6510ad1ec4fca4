"""PyAirbyte installs source-trastpay from the built wheel into its own venv, offline, and syncs.

``airbyte.get_source("source-trastpay", pip_url=...)`` with the wheel path and its ``[airbyte]``
extra (PyAirbyte hands pip_url to ``uv pip install`` word by word, so the exported constraints pin
every dependency); AIRBYTE_OFFLINE_MODE keeps it from asking Airbyte's online registry.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import runtimes

from trastpay_sandbox.testing import SandboxServer

pytestmark = [pytest.mark.packaging, pytest.mark.e2e, pytest.mark.timeout(900)]

DEVICE_ID = "packaging-pyairbyte"


def test_given_the_wheel_as_pip_url_when_pyairbyte_installs_and_reads_then_duckdb_has_the_records(
    dist: Path, installed_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRBYTE_OFFLINE_MODE", "1")
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    monkeypatch.setenv("AIRBYTE_LOGGING_ROOT", str(tmp_path / "logs"))
    # PyAirbyte runs `uv` from PATH; the dev venv has it (a dependency of PyAirbyte itself).
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    import airbyte
    from airbyte.caches import DuckDBCache

    phone = installed_sandbox.customers()[0]["phone"]
    tokens = installed_sandbox.login(phone, device_id=DEVICE_ID, client_id="trastpay-connectors")
    rotated: list[dict[str, Any]] = []
    wheel = runtimes.wheel_in(dist)
    source = airbyte.get_source(
        "source-trastpay",
        config={
            "base_url": installed_sandbox.api_url,
            "client_id": "trastpay-connectors",
            "device_id": DEVICE_ID,
            "refresh_token": tokens["refresh_token"],
            "start_date": "2026-06-01",
        },
        pip_url=f"{wheel}[airbyte] --constraint {dist / 'constraints-airbyte.txt'}",
        install_root=tmp_path / "connectors",
        config_change_callback=rotated.append,
    )
    source.select_streams(["cards", "card_transactions"])
    result = source.read(cache=DuckDBCache(db_path=tmp_path / "warehouse.duckdb", schema_name="trastpay"))

    venv_python = next((tmp_path / "connectors").glob("*/bin/python"))
    assert runtimes.importable(venv_python, "airbyte_cdk")
    assert not runtimes.importable(venv_python, "singer_sdk")
    assert rotated, "the source hands its rotated refresh token back to PyAirbyte"
    loaded = {name: len(dataset) for name, dataset in result.streams.items()}
    assert loaded["cards"] == len(installed_sandbox.truth("cards", phone)) > 0
    assert loaded["card_transactions"] == len(installed_sandbox.truth("card_transactions", phone)) > 0
