"""Run the dbt package (``dbt_trastpay/``) over a warehouse the connectors loaded, and read its marts.

dbt lives in its own virtualenv (``make dbt`` creates ``.dbt/venv`` from ``requirements/dbt.txt``)
because its pins clash with the SDKs'. Every run gets its own target and log directories, so two
builds (DuckDB and PostgreSQL) never share dbt's compiled state; the profile
(``dbt_trastpay/profiles/profiles.yml``) reads its connection from the environment.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "dbt_trastpay"
MARTS_SUFFIX = "_marts"

PYAIRBYTE_DUCKDB_VARS: dict[str, str] = {
    "trastpay_layout": "airbyte",
    "trastpay_timestamps": "naive_tashkent",
}
"""PyAirbyte's DuckDB cache: _airbyte_* columns, instants kept as Tashkent wall time."""
SINGER_VARS: dict[str, str] = {"trastpay_layout": "singer", "trastpay_timestamps": "naive_utc"}
"""target-postgres and target-duckdb: _sdc_* columns (if any), instants as naive UTC."""


class DbtError(RuntimeError):
    """dbt could not be run at all (not installed, or it crashed before reporting results)."""


def dbt_executable() -> Path:
    venv = Path(os.environ.get("TRASTPAY_DBT_VENV", ROOT / ".dbt" / "venv"))
    path = venv / "bin" / "dbt"
    if not path.exists():
        raise FileNotFoundError(f"dbt not found at {path}; run `make dbt` first")
    return path


@dataclass
class DbtRun:
    """One dbt command: its exit code, console output and the per-node results it wrote."""

    returncode: int
    output: str
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def status_of(self, name: str) -> str | None:
        """The status (pass, warn, fail, error, success) of the node called ``name``."""
        for result in self.results:
            if str(result.get("unique_id", "")).endswith(f".{name}"):
                return str(result.get("status"))
        return None


def run_dbt(
    command: list[str],
    *,
    target: str,
    work_dir: Path,
    variables: Mapping[str, Any],
    env: Mapping[str, str],
    timeout: float = 900,
) -> DbtRun:
    """``dbt <command>`` in the package with ``target`` (duckdb or postgres) of the bundled profile.

    ``env`` carries the profile's connection settings (TRASTPAY_DUCKDB_PATH, TRASTPAY_PG_*,
    TRASTPAY_DBT_SCHEMA); ``work_dir`` receives dbt's target and log directories.
    """
    target_path = work_dir / "target"
    log_path = work_dir / "logs"
    done = subprocess.run(
        [
            str(dbt_executable()),
            *command,
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT / "profiles"),
            "--target",
            target,
            "--target-path",
            str(target_path),
            "--log-path",
            str(log_path),
            "--vars",
            json.dumps(dict(variables)),
        ],
        cwd=PROJECT,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    results_file = target_path / "run_results.json"
    results: list[dict[str, Any]] = []
    if results_file.exists():
        results = list(json.loads(results_file.read_text(encoding="utf-8")).get("results", []))
    if done.returncode not in (0, 1) or (done.returncode == 1 and not results and "build" in command):
        raise DbtError(f"dbt {' '.join(command)} crashed ({done.returncode}):\n{output[-4000:]}")
    return DbtRun(done.returncode, output, results)


def marts_schema(dbt_schema: str) -> str:
    """Where the marts land: the profile's schema plus the folder's custom schema."""
    return dbt_schema + MARTS_SUFFIX


def ledger_summary(connection: Any, schema: str) -> list[tuple[str, str, str, int, int, Any, int]]:
    """``(book, entry_kind, currency, entries, sum of amount_minor, sum of amount_uzs, entries
    without a CBU rate)`` of the entries that move a balance, by book and kind."""
    rows = connection.execute(
        "SELECT book, entry_kind, currency, count(*), sum(amount_minor), sum(amount_uzs),"  # noqa: S608
        " count(*) - count(amount_uzs)"
        f' FROM "{schema}".trastpay__ledger_entries WHERE affects_balance'
        " GROUP BY book, entry_kind, currency ORDER BY book, entry_kind, currency"
    ).fetchall()
    return [(str(b), str(k), str(c), int(n), int(s), u, int(m)) for b, k, c, n, s, u, m in rows]


def reconciliation_summary(connection: Any, schema: str) -> list[tuple[str, int, int, int]]:
    """``(card_token, statements, reconciled, sum of |closing differences|)`` per card."""
    rows = connection.execute(
        "SELECT card_token, count(*), sum(CASE WHEN is_reconciled THEN 1 ELSE 0 END),"  # noqa: S608
        " sum(abs(closing_difference_minor))"
        f' FROM "{schema}".trastpay__statement_reconciliation GROUP BY card_token ORDER BY card_token'
    ).fetchall()
    return [(str(card), int(n), int(ok), int(diff)) for card, n, ok, diff in rows]
