"""Run the Airbyte source through PyAirbyte into a DuckDB cache, as a data team would.

PyAirbyte normally looks up Airbyte's online registry and sends telemetry; neither is possible
(nor wanted) here, so the environment is set for offline use and the source runs as the local
``source-trastpay`` executable of this virtualenv. Rotated refresh tokens arrive as
CONNECTOR_CONFIG control messages; :class:`RotatingConfig` keeps the newest config (and, when given
a path, persists it with mode 0600) so the next sync does not present a spent token.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def prepare_offline_environment() -> None:
    """Settings PyAirbyte needs on a machine without internet access."""
    os.environ["AIRBYTE_OFFLINE_MODE"] = "1"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ.setdefault("AIRBYTE_LOGGING_ROOT", str(Path(".pyairbyte-logs").resolve()))


def source_executable() -> Path:
    """``source-trastpay`` installed beside the running interpreter."""
    path = Path(sys.executable).parent / "source-trastpay"
    if not path.exists():
        raise FileNotFoundError(f"source-trastpay not found at {path}; run `make setup` first")
    return path


class RotatingConfig:
    """The source config, updated whenever the connector rotates the refresh token."""

    def __init__(self, config: Mapping[str, Any], persist_to: Path | None = None) -> None:
        self.config: dict[str, Any] = dict(config)
        self.persist_to = persist_to
        self.rotations = 0

    def on_change(self, new_config: dict[str, Any]) -> None:
        self.config = dict(new_config)
        self.rotations += 1
        if self.persist_to is not None:
            self.persist_to.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.persist_to.with_suffix(".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.config, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.persist_to)


def sync(
    config: RotatingConfig,
    db_path: Path,
    *,
    schema_name: str = "trastpay",
    streams: Sequence[str] | None = None,
) -> int:
    """One incremental sync of the selected streams (all by default); returns the records read.

    PyAirbyte keeps the connector state in the cache, so calling this again continues where the
    previous sync stopped; ``merge`` deduplicates on the source-defined primary keys.
    """
    prepare_offline_environment()
    import airbyte
    from airbyte.caches import DuckDBCache

    db_path.parent.mkdir(parents=True, exist_ok=True)
    source = airbyte.get_source(
        "source-trastpay",
        config=config.config,
        local_executable=source_executable(),
        config_change_callback=_refreshing_callback(config),
    )
    if streams:
        source.select_streams(list(streams))
    else:
        source.select_all_streams()
    cache = DuckDBCache(db_path=str(db_path), schema_name=schema_name, cache_dir=db_path.parent / ".cache")
    try:
        result = source.read(cache=cache, write_strategy="merge")
        return int(result.processed_records)
    finally:
        cache.close()  # DuckDB locks the file while any connection lives; dbt opens it next


def _refreshing_callback(config: RotatingConfig) -> Any:
    def callback(new_config: dict[str, Any]) -> None:
        config.on_change(new_config)

    return callback


def open_warehouse(db_path: Path, *, schema_name: str = "trastpay") -> Any:
    """A DuckDB connection to the cache PyAirbyte wrote, sharing PyAirbyte's own engine.

    DuckDB refuses a second connection to the same file with another configuration from the same
    process, so the summary queries go through the cache's engine instead of ``duckdb.connect``.
    """
    prepare_offline_environment()
    from airbyte.caches import DuckDBCache

    cache = DuckDBCache(db_path=str(db_path), schema_name=schema_name, cache_dir=db_path.parent / ".cache")
    return _PooledConnection(cache.get_sql_engine().raw_connection(), cache)


class _PooledConnection:
    """Keeps SQLAlchemy's pooled connection alive while its DuckDB connection is in use; closing it
    disposes the cache's engine, so the file is unlocked for the next program (dbt)."""

    def __init__(self, pooled: Any, cache: Any = None) -> None:
        self._pooled = pooled
        self._cache = cache
        self._duckdb = pooled.driver_connection

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Any:
        return self._duckdb.execute(sql, parameters) if parameters is not None else self._duckdb.execute(sql)

    def close(self) -> None:
        self._pooled.close()
        if self._cache is not None:
            self._cache.close()
