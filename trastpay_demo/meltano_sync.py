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


TAP_SETTINGS = ("base_url", "client_id", "device_id", "refresh_token", "start_date", "token_store_path")


def meltano_env(config: Mapping[str, Any], *, warehouse: Path) -> dict[str, str]:
    """The environment for a meltano run of the tap with ``config`` loading into ``warehouse``.

    ``config`` is a connector config from a login (``trastpay_sandbox.login_config``) with a
    ``token_store_path``; each of :data:`TAP_SETTINGS` becomes a ``TAP_TRASTPAY_*`` variable.
    """
    missing = [name for name in TAP_SETTINGS if name not in config]
    if missing:
        raise ValueError(f"the tap config for meltano lacks {', '.join(missing)}")
    settings = {f"TAP_TRASTPAY_{name.upper()}": str(config[name]) for name in TAP_SETTINGS}
    return {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        **settings,
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
