"""The benchmarked clients: how to configure and launch each against a running sandbox.

Every launch logs in afresh (its own device id), so no two runs share a refresh token and a
rotation never collides with another run's. Each client reads the same single card (or, given
:data:`EVERY_CARD`, every card of the customer) with page_size 1000, from the sandbox or from a
:class:`replay.ReplayTarget` (anything with ``api_url``, ``customers()`` and ``login()``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

from measure import LINES, MESSAGES

from trastpay_sandbox.login_config import login_config
from trastpay_sandbox.testing import SandboxServer

BENCH = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
CLIENT_ID = "trastpay-connectors"
SCOPES = ["cards:read", "statements:read"]
_logins = count(1)
EVERY_CARD = ""
"""The card argument that means "every card of the customer" (no card filter)."""


@dataclass(frozen=True)
class Launch:
    """One ready-to-run command and how its output marks a record."""

    command: list[str]
    markers: Sequence[bytes]


@dataclass(frozen=True)
class Client:
    """A named client and a factory that prepares a fresh launch of it."""

    name: str
    prepare: Callable[[SandboxServer, Path, str, str], Launch]


def _login(sandbox: SandboxServer) -> tuple[str, dict[str, Any]]:
    device_id = f"dev-bench-{next(_logins)}"
    phone = sandbox.customers()[0]["phone"]
    return device_id, sandbox.login(phone, device_id=device_id, client_id=CLIENT_ID, scopes=SCOPES)


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    path.chmod(0o600)
    return path


def _token_config(sandbox: SandboxServer, workdir: Path, card: str, name: str) -> Path:
    device_id, tokens = _login(sandbox)
    config = {
        "base_url": sandbox.api_url,
        "access_token": tokens["access_token"],
        "device_id": device_id,
    }
    if card != EVERY_CARD:
        config["card_token"] = card
    return _write(workdir / f"{name}-config.json", config)


def connector_config(sandbox: SandboxServer, workdir: Path, card: str, start_date: str) -> dict[str, Any]:
    """A fresh config for ``source-trastpay`` and ``tap-trastpay`` reading one card."""
    device_id = f"dev-bench-{next(_logins)}"
    config = login_config(
        sandbox,
        device_id=device_id,
        client_id=CLIENT_ID,
        start_date=start_date,
        token_store_path=workdir / f"tokens-{device_id}.json",
        scopes=SCOPES,
        page_size=1000,
        card_tokens=[card],
    )
    if card == EVERY_CARD:
        del config["card_tokens"]
    return config


def airbyte_catalog(workdir: Path) -> Path:
    """A configured catalog selecting card_transactions only, incremental, for the Airbyte clients."""
    stream = {
        "name": "card_transactions",
        "json_schema": {},
        "supported_sync_modes": ["full_refresh", "incremental"],
        "source_defined_cursor": True,
        "default_cursor_field": ["occurred_at"],
        "source_defined_primary_key": [["id"]],
    }
    catalog = {
        "streams": [
            {
                "stream": stream,
                "sync_mode": "incremental",
                "cursor_field": ["occurred_at"],
                "destination_sync_mode": "append",
                "primary_key": [["id"]],
            }
        ]
    }
    return _write(workdir / "airbyte-catalog.json", catalog)


def baseline_catalog(workdir: Path) -> Path:
    """The airbyte baseline's catalog: its one stream, full refresh."""
    stream = {"name": "card_transactions", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}
    catalog = {
        "streams": [{"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]
    }
    return _write(workdir / "baseline-catalog.json", catalog)


def singer_catalog(discovered: dict[str, Any], workdir: Path) -> Path:
    """The tap's discovered catalog with card_transactions selected and every other stream not."""
    for entry in discovered["streams"]:
        chosen = entry["tap_stream_id"] == "card_transactions"
        for metadata in entry.get("metadata", []):
            if metadata.get("breadcrumb") == []:
                metadata["metadata"]["selected"] = chosen
    return _write(workdir / "singer-catalog.json", discovered)


def _raw(sandbox: SandboxServer, workdir: Path, card: str, start_date: str) -> Launch:
    config = _token_config(sandbox, workdir, card, "raw")
    return Launch([sys.executable, str(BENCH / "raw_client.py"), "--config", str(config)], LINES)


def _airbyte_baseline(sandbox: SandboxServer, workdir: Path, card: str, start_date: str) -> Launch:
    config = _token_config(sandbox, workdir, card, "airbyte-baseline")
    source = BENCH / "baselines" / "airbyte_httpstream" / "source.py"
    command = [sys.executable, str(source), "read", "--config", str(config)]
    return Launch([*command, "--catalog", str(baseline_catalog(workdir))], MESSAGES)


def _singer_baseline(sandbox: SandboxServer, workdir: Path, card: str, start_date: str) -> Launch:
    config = _token_config(sandbox, workdir, card, "singer-baseline")
    tap = BENCH / "baselines" / "singer_reststream" / "tap.py"
    return Launch([sys.executable, str(tap), "--config", str(config)], MESSAGES)


def _source_trastpay(sandbox: SandboxServer, workdir: Path, card: str, start_date: str) -> Launch:
    config = _write(workdir / "source-config.json", connector_config(sandbox, workdir, card, start_date))
    command = [str(VENV_BIN / "source-trastpay"), "read", "--config", str(config)]
    return Launch([*command, "--catalog", str(workdir / "airbyte-catalog.json")], MESSAGES)


def _tap_trastpay(sandbox: SandboxServer, workdir: Path, card: str, start_date: str) -> Launch:
    config = _write(workdir / "tap-config.json", connector_config(sandbox, workdir, card, start_date))
    command = [str(VENV_BIN / "tap-trastpay"), "--config", str(config)]
    return Launch([*command, "--catalog", str(workdir / "singer-catalog.json")], MESSAGES)


RAW = Client("raw ceiling (urllib3 + orjson)", _raw)
AIRBYTE_BASELINE = Client("airbyte-cdk HttpStream baseline", _airbyte_baseline)
SINGER_BASELINE = Client("singer-sdk RESTStream baseline", _singer_baseline)
SOURCE = Client("source-trastpay read", _source_trastpay)
TAP = Client("tap-trastpay", _tap_trastpay)
CLIENTS = (RAW, AIRBYTE_BASELINE, SINGER_BASELINE, SOURCE, TAP)


def bytecode_cache(enabled: bool) -> str:
    """Let every child cache bytecode under a bench-owned prefix, as an ordinary install would.

    This environment sets PYTHONDONTWRITEBYTECODE and ships no ``.pyc`` files, so without this
    every Python process recompiles each module it imports (seconds of start-up for the SDKs).
    The cache lives outside the repo and the venv; ``--cold-imports`` measures without it.
    """
    if not enabled:
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        os.environ.pop("PYTHONPYCACHEPREFIX", None)
        return "off (every process compiles its imports)"
    prefix = Path(tempfile.gettempdir()) / "trastpay-bench-pycache"
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(prefix)
    commands = [
        [str(VENV_BIN / "source-trastpay"), "spec"],
        [str(VENV_BIN / "tap-trastpay"), "--about"],
        [sys.executable, str(BENCH / "baselines" / "airbyte_httpstream" / "source.py"), "spec"],
        [sys.executable, str(BENCH / "baselines" / "singer_reststream" / "tap.py"), "--about"],
        [sys.executable, "-c", "import trastpay_sandbox.app, urllib3, orjson"],
    ]
    for command in commands:
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return f"on ({prefix}, primed before timing)"
