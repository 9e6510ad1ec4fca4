"""Run the Singer tap through Meltano into DuckDB (``meltano run tap-trastpay target-duckdb``).

Meltano lives in its own virtualenv (``make meltano`` creates ``.meltano/meltano-venv`` from
``requirements/meltano.txt``); the project's ``meltano.yml`` defines every plugin by namespace and
pip_url so nothing asks Meltano's online Hub. Settings reach the tap as environment variables; the
tap keeps its rotating refresh token in the token store named by ``token_store_path``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class MeltanoError(RuntimeError):
    """A meltano command failed; the message carries the tail of its output (never the env)."""


def meltano_executable() -> Path:
    path = (
        Path(os.environ.get("TRASTPAY_MELTANO_VENV", ROOT / ".meltano" / "meltano-venv")) / "bin" / "meltano"
    )
    if not path.exists():
        raise FileNotFoundError(f"meltano not found at {path}; run `make meltano` first")
    return path


def meltano_env(
    *,
    api_url: str,
    client_id: str,
    device_id: str,
    refresh_token: str,
    start_date: str,
    token_store: Path,
    warehouse: Path,
) -> dict[str, str]:
    """The environment for a meltano run against ``api_url`` loading into ``warehouse``.

    ``meltano install`` installs the tap from the checkout's ``dist/`` (``make dist``; meltano.yml).
    """
    return {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_TRASTPAY_BASE_URL": api_url,
        "TAP_TRASTPAY_CLIENT_ID": client_id,
        "TAP_TRASTPAY_DEVICE_ID": device_id,
        "TAP_TRASTPAY_REFRESH_TOKEN": refresh_token,
        "TAP_TRASTPAY_START_DATE": start_date,
        "TAP_TRASTPAY_TOKEN_STORE_PATH": str(token_store),
        "TARGET_DUCKDB_PATH": str(warehouse),
    }


def run_meltano(env: Mapping[str, str], *args: str, meltano: Path | None = None) -> None:
    """Run one meltano command in the project root; raise :class:`MeltanoError` when it fails."""
    executable = meltano or meltano_executable()
    done = subprocess.run(
        [str(executable), *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise MeltanoError(f"meltano {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def utc_instants(row: Mapping[str, Any]) -> dict[str, Any]:
    """target-duckdb stores each instant as naive UTC; make that explicit before comparing."""
    return {
        k: v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v
        for k, v in row.items()
    }
