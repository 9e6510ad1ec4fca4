"""Shared plumbing of the bad-input cases (invalid configs, hostile payloads, leak scans).

One small sandbox serves all three modules (started on first use, stopped at exit), with
``record_secrets`` always on so every token and OTP it issues is known to the leak scans.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from trastpay_sandbox.login_config import login_config
from trastpay_sandbox.testing import SandboxServer

from .forked import Connector, Job
from .harness import CLIENT_ID

ROOT = Path(__file__).resolve().parents[2]
AIRBYTE_CATALOG = ROOT / "integration_tests" / "configured_catalog.json"
START_DATE = "2026-09-01"
RECORD_SECRETS: dict[str, Any] = {"record_secrets": True}


@functools.cache
def shared_sandbox() -> SandboxServer:
    """One customer, two months of history: every stream has records, a sync takes a second."""
    server = SandboxServer(customers=1, history_days=60, seed=7, faults=RECORD_SECRETS)
    return server.start()


def phone_of(sandbox: SandboxServer) -> str:
    return str(sandbox.customers()[0]["phone"])


def set_switches(sandbox: SandboxServer, **switches: Any) -> None:
    """Replace the fault switches with ``switches`` (secrets keep being recorded)."""
    sandbox.set_faults({**RECORD_SECRETS, **switches})


def fresh_config(sandbox: SandboxServer, workdir: Path, device_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid config from a new OTP login, with a token store in ``workdir`` (the tap uses it)."""
    workdir.mkdir(parents=True, exist_ok=True)
    return login_config(
        sandbox,
        phone=phone_of(sandbox),
        device_id=device_id,
        client_id=CLIENT_ID,
        start_date=START_DATE,
        token_store_path=workdir / "tokens.json",
        **{"max_retries": 2, **overrides},
    )


def issued_secrets(sandbox: SandboxServer) -> dict[str, list[str]]:
    """Every access token, refresh token and OTP the sandbox has issued so far."""
    status, raw = sandbox.request("GET", "/_sandbox/issued-secrets")
    assert status == 200, raw
    document: dict[str, list[str]] = json.loads(raw)
    return document


def airbyte_catalog(streams: list[str]) -> dict[str, Any]:
    document = json.loads(AIRBYTE_CATALOG.read_text(encoding="utf-8"))
    entries = [e for e in document["streams"] if e["stream"]["name"] in streams]
    for entry in entries:
        incremental = "incremental" in entry["stream"]["supported_sync_modes"]
        entry["sync_mode"] = "incremental" if incremental else "full_refresh"
    return {"streams": entries}


@functools.cache
def _singer_catalog_text() -> str:
    from tap_trastpay.tap import TapTrastpay

    config = {
        "base_url": "http://127.0.0.1:9/api/v1/trastpay",
        "client_id": "c",
        "device_id": "d",
        "refresh_token": "r",
        "start_date": START_DATE,
    }
    return json.dumps(TapTrastpay(config=config, parse_env_config=False, validate_config=False).catalog_dict)


def singer_catalog(streams: list[str]) -> dict[str, Any]:
    catalog: dict[str, Any] = json.loads(_singer_catalog_text())
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def read_job(
    connector: Connector, workdir: Path, config: Any, streams: list[str], *, state: Any = None
) -> Job:
    """The command that syncs ``streams``: Airbyte ``read``, Singer a tap run with a catalog."""
    config_path = write_json(workdir / "config.json", config)
    extra: list[str] = []
    if state is not None:
        extra = ["--state", str(write_json(workdir / "state.json", state))]
    if connector == "airbyte":
        catalog = write_json(workdir / "catalog.json", airbyte_catalog(streams))
        return Job(
            connector, ["read", "--config", str(config_path), "--catalog", str(catalog), *extra], workdir
        )
    catalog = write_json(workdir / "catalog.json", singer_catalog(streams))
    return Job(connector, ["--config", str(config_path), "--catalog", str(catalog), *extra], workdir)


def command_job(connector: Connector, command: str, workdir: Path, config: Any) -> Job:
    """``spec``/``check``/``discover`` (Singer: ``--about``, a ``cards`` sync, ``--discover``)."""
    config_path = write_json(workdir / "config.json", config)
    if connector == "airbyte":
        argv = [command] if command == "spec" else [command, "--config", str(config_path)]
        return Job(connector, argv, workdir)
    if command == "spec":
        return Job(connector, ["--about", "--format", "json"], workdir)
    if command == "discover":
        return Job(connector, ["--config", str(config_path), "--discover"], workdir)
    return read_job(connector, workdir, config, ["cards"])


def names_field(text: str, field: str) -> bool:
    """Does an error ``text`` name the config ``field`` (``'page_size'``, ``config['page_size']``,
    or in words: "the refresh token")?"""
    spaced = field.replace("_", " ")
    return bool(
        re.search(rf"\b{re.escape(field)}\b", text) or re.search(rf"\b{re.escape(spaced)}\b", text, re.I)
    )


__all__ = [
    "RECORD_SECRETS",
    "START_DATE",
    "command_job",
    "fresh_config",
    "issued_secrets",
    "names_field",
    "phone_of",
    "read_job",
    "set_switches",
    "shared_sandbox",
    "singer_catalog",
    "write_json",
]
