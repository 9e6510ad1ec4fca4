"""End to end as a Meltano user runs it: ``meltano run tap-trastpay target-duckdb``, twice.

A full sync, two days of sandbox time (holds post or reverse, new activity), an incremental sync
from Meltano's saved state; then every deduplicated DuckDB table must equal the sandbox truth:
same primary keys, same fields (latest status included) and the same ``*_minor`` sums.

Meltano is not a project dependency: it is installed on first use into ``.meltano/meltano-venv``
(override with ``TRASTPAY_MELTANO_VENV``; ``make meltano`` does it); when that fails the test is skipped
and says why, except under CI, where it fails.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from trastpay.config import parse_config
from trastpay.streams import STREAMS
from trastpay_demo.meltano_sync import meltano_env, run_meltano, utc_instants
from trastpay_sandbox.login_config import login_config
from trastpay_sandbox.testing import SandboxServer
from trastpay_sandbox.verify import compare_stream, duckdb_rows

from .tap_harness import START_DATE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
MELTANO_VERSION = "4.4.1"
DEVICE_ID = "meltano-e2e"


def _meltano_venv() -> Path:
    return Path(os.environ.get("TRASTPAY_MELTANO_VENV", ROOT / ".meltano" / "meltano-venv"))


@pytest.fixture(scope="module")
def meltano() -> Path:
    """The meltano executable, installed on first use (skips when the registry is unreachable)."""
    venv = _meltano_venv()
    executable = venv / "bin" / "meltano"
    if not executable.exists():
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300
            )
            subprocess.run(
                [str(venv / "bin" / "pip"), "install", "--quiet", f"meltano=={MELTANO_VERSION}"],
                check=True,
                capture_output=True,
                timeout=900,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            message = f"could not install meltano=={MELTANO_VERSION} into {venv}: {exc}"
            if os.environ.get("CI"):
                pytest.fail(message)  # CI installs it with `make meltano`; a skip there would hide a failure
            pytest.skip(message)
    return executable


@pytest.fixture(scope="module")
def dist() -> Path:
    """The checkout's dist/ that meltano.yml installs the tap from, built now (as ``make dist`` does)."""
    out = ROOT / "dist"
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "runtimes.py"), "build", "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=2, history_days=120, seed=7) as server:
        yield server


def test_given_full_then_incremental_meltano_runs_when_compared_then_duckdb_equals_truth(
    meltano: Path, dist: Path, sandbox: SandboxServer, tmp_path: Path
) -> None:

    phone = sandbox.customers()[0]["phone"]
    warehouse = tmp_path / "warehouse.duckdb"
    config = login_config(
        sandbox,
        phone=phone,
        device_id=DEVICE_ID,
        start_date=START_DATE,
        token_store_path=tmp_path / "refresh-token.json",
    )
    env = meltano_env(config, warehouse=warehouse)
    suffix = uuid.uuid4().hex[:12]
    run_meltano(env, "install", "--clean", meltano=meltano)  # a fresh tap from the new wheel
    run_meltano(env, "run", "--state-id-suffix", suffix, "tap-trastpay", "target-duckdb", meltano=meltano)
    sandbox.advance("P2D")
    run_meltano(env, "run", "--state-id-suffix", suffix, "tap-trastpay", "target-duckdb", meltano=meltano)

    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        problems = []
        compared = 0
        for stream in STREAMS:
            truth = sandbox.truth(stream.name, phone)
            if not truth:
                continue
            loaded = [utc_instants(row) for row in duckdb_rows(connection, stream.name, "trastpay")]
            result = compare_stream(
                stream.name, truth, loaded, primary_key=stream.primary_key, cursor_field=stream.cursor_field
            )
            compared += 1
            if not result.ok:
                problems.append(result.describe())
    finally:
        connection.close()
    assert compared >= 3
    assert not problems, "\n".join(problems)


def _meltano_state(meltano: Path, env: dict[str, str], state_id: str) -> str:
    done = subprocess.run(
        [str(meltano), "state", "get", state_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout.strip()


def test_given_a_deleted_month_when_backfilled_with_meltano_then_it_is_back_and_the_state_is_unchanged(
    meltano: Path, sandbox: SandboxServer, tmp_path: Path
) -> None:
    phone = sandbox.customers()[1]["phone"]
    warehouse = tmp_path / "warehouse.duckdb"
    config = login_config(
        sandbox,
        phone=phone,
        device_id=DEVICE_ID + "-backfill",
        start_date=START_DATE,
        token_store_path=tmp_path / "refresh-token.json",
    )
    env = meltano_env(config, warehouse=warehouse)
    suffix = uuid.uuid4().hex[:12]
    state_id = f"dev:tap-trastpay-to-target-duckdb:{suffix}"
    run_meltano(env, "install", meltano=meltano)
    run_meltano(env, "run", "--state-id-suffix", suffix, "tap-trastpay", "target-duckdb", meltano=meltano)
    state_before = _meltano_state(meltano, env, state_id)
    # September in Tashkent, as the naive UTC instants target-duckdb stores
    bounds = ["2026-08-31 19:00:00", "2026-09-30 19:00:00"]
    connection = duckdb.connect(str(warehouse))
    try:
        counted = connection.execute(
            "SELECT count(*) FROM trastpay.card_transactions WHERE occurred_at >= ?::TIMESTAMP "
            "AND occurred_at < ?::TIMESTAMP",
            bounds,
        )
        (removed,) = counted.fetchone() or (0,)
        connection.execute(
            "DELETE FROM trastpay.card_transactions WHERE occurred_at >= ?::TIMESTAMP "
            "AND occurred_at < ?::TIMESTAMP",
            bounds,
        )
    finally:
        connection.close()
    assert removed > 0, "the month holds no card operation: the case proves nothing"

    backfill = '{"start_date": "2026-09-01", "end_date": "2026-10-01", "streams": ["card_transactions"]}'
    backfill_env = {**env, "TAP_TRASTPAY_BACKFILL": backfill}
    run_meltano(
        backfill_env, "run", "--state-id-suffix", suffix, "tap-trastpay", "target-duckdb", meltano=meltano
    )

    assert _meltano_state(meltano, env, state_id) == state_before
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        loaded = [utc_instants(row) for row in duckdb_rows(connection, "card_transactions", "trastpay")]
        audit = connection.execute(
            "SELECT stream, mode FROM trastpay.sync_audit WHERE mode = 'backfill'"
        ).fetchall()
    finally:
        connection.close()
    definition = next(s for s in STREAMS if s.name == "card_transactions")
    result = compare_stream(
        definition.name,
        sandbox.truth(definition.name, phone),
        loaded,
        primary_key=definition.primary_key,
        cursor_field=definition.cursor_field,
    )
    assert result.ok, result.describe()
    assert audit, "the backfill run wrote no sync_audit record"
    assert {row[0] for row in audit} == {"card_transactions"}


def test_given_backfill_set_as_documented_when_meltano_prints_the_config_then_the_tap_accepts_the_window(
    meltano: Path, tmp_path: Path
) -> None:
    """docs/backfill.md's ``meltano config set tap-trastpay backfill '{...}'``, typed into a copy
    of the project: Meltano stores an object (not a string) and the tap's config check accepts it."""
    shutil.copy(ROOT / "meltano.yml", tmp_path / "meltano.yml")
    typed = [
        shlex.split(line)[1:]
        for line in (ROOT / "docs" / "backfill.md").read_text(encoding="utf-8").splitlines()
        if line.startswith(".meltano/meltano-venv/bin/meltano config ")
    ]
    assert [args[:4] for args in typed] == [
        ["config", "set", "tap-trastpay", "backfill"],
        ["config", "unset", "tap-trastpay", "backfill"],
    ], typed
    window = json.loads(typed[0][4])
    assert window["streams"] == ["card_transactions"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("TAP_TRASTPAY_")}
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"

    def meltano_config(*args: str) -> str:
        done = subprocess.run(
            [str(meltano), "config", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    meltano_config(*typed[0][1:])
    printed = json.loads(meltano_config("print", "tap-trastpay"))
    assert printed["backfill"] == window
    config = parse_config(
        {
            "base_url": "http://127.0.0.1:1/api/v1/trastpay",
            "client_id": "c",
            "device_id": "d",
            "refresh_token": "r",
            "start_date": "2026-01-01",
            **printed,
        }
    )
    assert config.backfill is not None
    assert config.backfill.streams == ("card_transactions",)
    meltano_config(*typed[1][1:])
    assert "backfill" not in json.loads(meltano_config("print", "tap-trastpay"))
