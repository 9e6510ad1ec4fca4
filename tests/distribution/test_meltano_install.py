"""The Hub-style definition installs the tap from the built wheel and runs it, as a Meltano user does.

A fresh Meltano project whose extractor is ``meltano-hub/tap-trastpay.yml`` as published (pip_url
``trastpay-connectors[singer]``) and whose loader is the repository's target-duckdb; uv (Meltano's
installer) finds the wheel through ``UV_FIND_LINKS`` pointed at the built dist folder and pins
every dependency with the exported constraints. Then ``meltano config set tap-trastpay
flattening_enabled true`` must store a boolean the tap accepts, and ``meltano run`` must load DuckDB.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest
import runtimes
import yaml

from trastpay_sandbox.testing import SandboxServer

pytestmark = [pytest.mark.packaging, pytest.mark.e2e, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
HUB_ONLY_KEYS = ("variant", "label", "description", "docs", "maintenance_status", "keywords")
DEVICE_ID = "packaging-meltano"


def _meltano() -> Path:
    executable = (
        Path(os.environ.get("TRASTPAY_MELTANO_VENV", ROOT / ".meltano" / "meltano-venv")) / "bin/meltano"
    )
    if not executable.exists():
        pytest.fail(f"meltano not found at {executable}: run `make meltano` (make test does)")
    return executable


def _project(directory: Path) -> Path:
    """A Meltano project with the Hub-style extractor and the repository's target-duckdb."""
    hub: dict[str, Any] = yaml.safe_load((ROOT / "meltano-hub/tap-trastpay.yml").read_text(encoding="utf-8"))
    extractor = {k: v for k, v in hub.items() if k not in (*HUB_ONLY_KEYS, "settings_preamble")}
    extractor["select"] = ["cards.*", "events.*", "transfers.*"]
    repository = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    (duckdb_loader,) = [p for p in repository["plugins"]["loaders"] if p["name"] == "target-duckdb"]
    project = {
        "version": 1,
        "default_environment": "dev",
        "send_anonymous_usage_stats": False,
        "project_id": "trastpay-packaging-test",
        "environments": [{"name": "dev"}],
        "plugins": {"extractors": [extractor], "loaders": [duckdb_loader]},
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False), encoding="utf-8")
    return directory


def _run(meltano: Path, project: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [str(meltano), *args], cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, (
        f"meltano {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-4000:]}"
    )


def test_given_the_hub_definition_when_installed_from_the_wheel_and_flattening_set_then_run_loads_duckdb(
    dist: Path, installed_sandbox: SandboxServer, tmp_path: Path
) -> None:
    meltano = _meltano()
    project = _project(tmp_path / "project")
    phone = installed_sandbox.customers()[0]["phone"]
    tokens = installed_sandbox.login(phone, device_id=DEVICE_ID, client_id="trastpay-connectors")
    warehouse = tmp_path / "warehouse.duckdb"
    env = {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        # Meltano installs plugins with uv: the wheel from the dist folder, every dependency pinned.
        "UV_FIND_LINKS": str(dist),
        "UV_CONSTRAINT": str(dist / "constraints-singer.txt"),
        "TAP_TRASTPAY_BASE_URL": installed_sandbox.api_url,
        "TAP_TRASTPAY_CLIENT_ID": "trastpay-connectors",
        "TAP_TRASTPAY_DEVICE_ID": DEVICE_ID,
        "TAP_TRASTPAY_REFRESH_TOKEN": tokens["refresh_token"],
        "TAP_TRASTPAY_START_DATE": "2026-06-01",
        "TAP_TRASTPAY_TOKEN_STORE_PATH": str(tmp_path / "refresh-token.json"),
        "TARGET_DUCKDB_PATH": str(warehouse),
    }

    _run(meltano, project, env, "install")
    _run(meltano, project, env, "config", "set", "tap-trastpay", "flattening_enabled", "true")
    _run(meltano, project, env, "config", "set", "tap-trastpay", "flattening_max_depth", "1")
    _run(meltano, project, env, "run", "tap-trastpay", "target-duckdb")

    stored = yaml.safe_load((project / "meltano.yml").read_text(encoding="utf-8"))
    (extractor,) = stored["plugins"]["extractors"]
    assert extractor["config"] == {"flattening_enabled": True, "flattening_max_depth": 1}
    tap_python = project / ".meltano/extractors/tap-trastpay/venv/bin/python"
    assert runtimes.importable(tap_python, "singer_sdk")
    assert not runtimes.importable(tap_python, "airbyte_cdk")
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        loaded = {table: _count(connection, table) for table in ("cards", "events", "transfers")}
    finally:
        connection.close()
    assert loaded["cards"] == len(installed_sandbox.truth("cards", phone))
    assert loaded["transfers"] == len(installed_sandbox.truth("transfers", phone))
    assert loaded["events"] > 0
    assert loaded["cards"] > 0


def _count(connection: duckdb.DuckDBPyConnection, table: str) -> int:
    row = connection.execute(f"select count(*) from trastpay.{table}").fetchone()  # noqa: S608
    assert row is not None
    return int(row[0])
