"""``spec``, ``discover`` and ``check`` answered directly import only what they use.

Each command runs in a cold interpreter (as ``source-trastpay`` starts) and reports the modules it
loaded; what a command must not pay for at start-up is listed per command. A valid config is
judged by jsonschema-rs, so neither command imports jsonschema; ``check`` talks HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SDKS = ("airbyte_cdk", "airbyte_protocol", "pydantic", "singer_sdk")
"""Neither SDK nor its models: the answers are plain JSON documents."""
HTTP = ("requests", "urllib3", "charset_normalizer", "certifi", "ssl", "http.client")
"""The HTTP stack: only ``check`` and ``read`` talk to the API."""
READ_PATH = ("trastpay.session", "trastpay.client", "trastpay.http", "trastpay.transport", "trastpay.auth")
"""The core's read path: sessions, the client and its token handling."""
SCHEMA_VALIDATION = ("jsonschema",)
"""jsonschema and its format checkers (rfc3987, arrow...): only an invalid config needs its messages."""

HEAVY = {
    "spec": SDKS + HTTP + READ_PATH + SCHEMA_VALIDATION,
    "discover": SDKS + HTTP + READ_PATH + SCHEMA_VALIDATION,
    "check": SDKS + SCHEMA_VALIDATION,
}

PROBE = """
import contextlib, io, json, sys
from source_trastpay.console import answer
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = answer(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _modules_of(argv: list[str]) -> tuple[int | None, str, set[str]]:
    command = [sys.executable, "-c", PROBE, json.dumps(argv)]
    run = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    answer = json.loads(run.stdout)
    return answer["code"], answer["out"], set(answer["modules"])


@pytest.mark.parametrize("command", ["spec", "discover", "check"])
def test_given_a_direct_command_when_run_cold_then_it_imports_none_of_what_it_does_not_use(
    command: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "base_url": "http://127.0.0.1:9/api/v1/trastpay",  # nothing listens: check fails fast
                "client_id": "trastpay-connectors",
                "device_id": "dev-imports",
                "refresh_token": "rt-imports",
                "start_date": "2026-01-01",
                "max_retries": 0,
            }
        ),
        encoding="utf-8",
    )
    argv = [command] if command == "spec" else [command, "--config", str(config)]
    code, out, modules = _modules_of(argv)
    assert code is not None  # answered directly, not handed to the CDK path
    kinds = {json.loads(line)["type"] for line in out.splitlines()}
    assert kinds & {"SPEC", "CATALOG", "CONNECTION_STATUS"}
    loaded = sorted(name for name in HEAVY[command] if name in modules)
    assert loaded == []
