"""One synced warehouse per engine per test session, each built once with the dbt package.

The sandbox serves the demo's world (seed 42, three customers, 400 days, so every stream has
records); its clock stands still, so both connectors read the same data:
- DuckDB: the Airbyte source through PyAirbyte's DuckDB cache (the embedded default);
- PostgreSQL: a throwaway cluster loaded by the Singer tap through ``meltano run tap-trastpay
  target-postgres``.
dbt and Meltano live in their own venvs (``make dbt``, ``make meltano``); a missing one is installed
on first use, and when that fails the tests are skipped with the reason, except under CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from trastpay_demo.dbt_run import PYAIRBYTE_DUCKDB_VARS, SINGER_VARS, DbtRun, run_dbt
from trastpay_demo.meltano_sync import meltano_env, run_meltano
from trastpay_demo.pyairbyte_sync import RotatingConfig, sync
from trastpay_sandbox.login_config import login_config
from trastpay_sandbox.testing import SandboxServer

from .postgres_cluster import DATABASE, USER, PostgresCluster, postgres_bin

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "trastpay-connectors"
START_DATE = "2025-09-01"
DBT_SCHEMA = "analytics"


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)  # CI installs everything; a skip there would hide a failure
    pytest.skip(message)


def _ensure_venv(venv: Path, executable: str, requirements: Path) -> Path:
    path = venv / "bin" / executable
    if not path.exists():
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300
            )
            subprocess.run(
                [str(venv / "bin" / "pip"), "install", "--quiet", "-r", str(requirements)],
                check=True,
                capture_output=True,
                timeout=1200,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            _unavailable(f"could not install {requirements.name} into {venv}: {exc}")
    return path


@pytest.fixture(scope="session")
def dbt_installed() -> Path:
    venv = Path(os.environ.get("TRASTPAY_DBT_VENV", ROOT / ".dbt" / "venv"))
    return _ensure_venv(venv, "dbt", ROOT / "requirements" / "dbt.txt")


@pytest.fixture(scope="session")
def meltano_installed() -> Path:
    venv = Path(os.environ.get("TRASTPAY_MELTANO_VENV", ROOT / ".meltano" / "meltano-venv"))
    return _ensure_venv(venv, "meltano", ROOT / "requirements" / "meltano.txt")


@pytest.fixture(scope="session")
def dist() -> Path:
    """The checkout's dist/ that meltano.yml installs the tap from, built now (as ``make dist`` does).

    meltano.yml's pip_url finds the wheel and the singer constraints in dist/ (--find-links); a fresh
    checkout has none and an old one may be stale, so the session builds it from the working tree.
    """
    out = ROOT / "dist"
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "runtimes.py"), "build", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"building dist/ failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return out


@pytest.fixture(scope="session")
def warehouse_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=3, history_days=400, seed=42) as server:
        yield server


@pytest.fixture(scope="session")
def warehouse_phone(warehouse_sandbox: SandboxServer) -> str:
    """The demo's customer: cards, loans, instalments, deposits, FX and cashback all present."""
    return str(warehouse_sandbox.customers()[0]["phone"])


@dataclass
class BuiltWarehouse:
    """A loaded warehouse and the dbt build over it."""

    target: str
    env: dict[str, str]
    variables: dict[str, str]
    build: DbtRun
    work_dir: Path

    def dbt(self, *command: str, work_dir: Path | None = None, env: dict[str, str] | None = None) -> DbtRun:
        return run_dbt(
            list(command),
            target=self.target,
            work_dir=work_dir or self.work_dir,
            variables=self.variables,
            env={**self.env, **(env or {})},
        )


@pytest.fixture(scope="session")
def duckdb_warehouse(
    dbt_installed: Path,
    warehouse_sandbox: SandboxServer,
    warehouse_phone: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> BuiltWarehouse:
    """PyAirbyte -> DuckDB, then ``dbt build`` (layout airbyte, Tashkent wall-time instants)."""
    work = tmp_path_factory.mktemp("duckdb-warehouse")
    tokens = warehouse_sandbox.login(warehouse_phone, device_id="dbt-duckdb", client_id=CLIENT_ID)
    config = RotatingConfig(
        {
            "base_url": warehouse_sandbox.api_url,
            "client_id": CLIENT_ID,
            "device_id": "dbt-duckdb",
            "refresh_token": tokens["refresh_token"],
            "start_date": START_DATE,
        }
    )
    database = work / "warehouse.duckdb"
    sync(config, database)
    env = {"TRASTPAY_DUCKDB_PATH": str(database), "TRASTPAY_DBT_SCHEMA": DBT_SCHEMA}
    variables = dict(PYAIRBYTE_DUCKDB_VARS)
    build = run_dbt(["build"], target="duckdb", work_dir=work / "dbt", variables=variables, env=env)
    return BuiltWarehouse("duckdb", env, variables, build, work / "dbt")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        _unavailable("PostgreSQL server binaries (initdb) are not installed; apt-get install postgresql")
        raise AssertionError("unreachable")
    with PostgresCluster(bin_dir) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def postgres_warehouse(
    dbt_installed: Path,
    meltano_installed: Path,
    dist: Path,
    postgres_cluster: PostgresCluster,
    warehouse_sandbox: SandboxServer,
    warehouse_phone: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> BuiltWarehouse:
    """``meltano run tap-trastpay target-postgres``, then ``dbt build`` (layout singer, UTC instants)."""
    work = tmp_path_factory.mktemp("postgres-warehouse")
    config = login_config(
        warehouse_sandbox,
        phone=warehouse_phone,
        device_id="dbt-postgres",
        client_id=CLIENT_ID,
        start_date=START_DATE,
        token_store_path=work / "refresh-token.json",
    )
    env = meltano_env(config, warehouse=work / "unused.duckdb")
    env.update(
        TARGET_POSTGRES_HOST=postgres_cluster.host,
        TARGET_POSTGRES_PORT=str(postgres_cluster.port),
        TARGET_POSTGRES_USER=USER,
        TARGET_POSTGRES_PASSWORD="",
        TARGET_POSTGRES_DATABASE=DATABASE,
    )
    run_meltano(env, "install", "extractor", "tap-trastpay", meltano=meltano_installed)
    run_meltano(env, "install", "loader", "target-postgres", meltano=meltano_installed)
    suffix = uuid.uuid4().hex[:12]
    run_meltano(
        env, "run", "--state-id-suffix", suffix, "tap-trastpay", "target-postgres", meltano=meltano_installed
    )
    dbt_env = {
        "TRASTPAY_PG_HOST": postgres_cluster.host,
        "TRASTPAY_PG_PORT": str(postgres_cluster.port),
        "TRASTPAY_PG_USER": USER,
        "TRASTPAY_PG_DATABASE": DATABASE,
        "TRASTPAY_DBT_SCHEMA": DBT_SCHEMA,
    }
    variables = dict(SINGER_VARS)
    build = run_dbt(["build"], target="postgres", work_dir=work / "dbt", variables=variables, env=dbt_env)
    return BuiltWarehouse("postgres", dbt_env, variables, build, work / "dbt")
