"""Run tap-trastpay against a sandbox the way users do, and read what it emitted.

In-process runs (:func:`run_tap`) are fast and used for state semantics; subprocess runs
(:func:`run_tap_process`) are used where a real process must die (token store crash tests).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tap_trastpay.tap import TapTrastpay
from trastpay.cursors import parse_instant
from trastpay.streams import STREAMS, StreamDef
from trastpay_sandbox.login_config import login_config as shared_login_config
from trastpay_sandbox.testing import SandboxServer

START_DATE = "2026-06-01"  # before the sandbox history starts: a full sync is the whole truth
TAP_EXECUTABLE = Path(sys.executable).with_name("tap-trastpay")


@dataclass
class SyncResult:
    """Messages of one run: records per stream, states, and everything in emission order."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    refreshes: int | None = None

    @property
    def records(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for message in self.messages:
            if message["type"] == "RECORD":
                found[message["stream"]].append(message["record"])
        return found

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1]


def parse_messages(stdout: str) -> SyncResult:
    return SyncResult([json.loads(line) for line in stdout.splitlines() if line.strip()])


def login_config(sandbox: SandboxServer, phone: str, store_dir: Path, device_id: str) -> dict[str, Any]:
    """A tap config from a fresh OTP login, with its own token store."""
    store = store_dir / "refresh-token.json"
    return shared_login_config(
        sandbox, phone=phone, device_id=device_id, start_date=START_DATE, token_store_path=store
    )


def run_tap(
    config: dict[str, Any], state: dict[str, Any] | None = None, catalog: Path | None = None
) -> SyncResult:
    """One full sync in this process (every stream, or those ``catalog`` selects), stdout captured."""
    buffer = io.StringIO()
    tap = TapTrastpay(
        config=config,
        state=state or {},
        catalog=json.loads(catalog.read_text(encoding="utf-8")) if catalog else None,
        parse_env_config=False,
    )
    with contextlib.redirect_stdout(buffer):
        tap.sync_all()
    tap.session.close()
    result = parse_messages(buffer.getvalue())
    result.refreshes = tap.session.client.tokens.refresh_count
    return result


def write_catalog(config: dict[str, Any], path: Path, streams: set[str]) -> Path:
    """A discovered catalog with only ``streams`` selected."""
    catalog = TapTrastpay(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in streams
    path.write_text(json.dumps(catalog), encoding="utf-8")
    return path


def tap_command(config_path: Path) -> list[str]:
    """The CLI invocation, with ``catalog.json`` beside the config when there is one."""
    catalog = config_path.with_name("catalog.json")
    extra = ["--catalog", str(catalog)] if catalog.exists() else []
    return [str(TAP_EXECUTABLE), "--config", str(config_path), *extra]


def run_tap_process(
    config_path: Path, *, env: dict[str, str] | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """``tap-trastpay --config <path>`` as a user runs it."""
    return subprocess.run(
        tap_command(config_path),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def key_of(stream: StreamDef, record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(record[name] for name in stream.primary_key)


def keys_by_stream(result: SyncResult) -> dict[str, set[tuple[Any, ...]]]:
    records = result.records
    return {s.name: {key_of(s, r) for r in records.get(s.name, [])} for s in STREAMS}


def incremental_streams() -> list[StreamDef]:
    return [s for s in STREAMS if s.incremental]


def max_cursor(records: list[dict[str, Any]], cursor_field: str) -> str | None:
    """The record cursor that is the latest instant (the record's own string)."""
    values = [r[cursor_field] for r in records if r.get(cursor_field) is not None]
    return max(values, key=parse_instant) if values else None
