"""One sandbox for every CLI test, a captured-run helper and a config made by a real login."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trastpay.cli import main
from trastpay_sandbox.testing import SandboxServer

from .cli_harness import CliRun, TypedOtp, login_args


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=2) as server:
        yield server


@pytest.fixture(scope="session")
def phones(sandbox: SandboxServer) -> list[str]:
    return [customer["phone"] for customer in sandbox.customers()]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str) -> CliRun:
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def cli_config(sandbox: SandboxServer, phones: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The config `trastpay auth login` prints (no secret), saved as printed, after a real CLI login."""
    directory = tmp_path_factory.mktemp("cli-config")
    store = directory / "tokens.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", TypedOtp(sandbox, phones[0]))
        buffer = io.StringIO()
        patch.setattr("sys.stdout", buffer)
        patch.setattr("sys.stderr", io.StringIO())
        assert main(login_args(sandbox, phones[0], store)) == 0
    config_path = directory / "config.json"
    config_path.write_text(buffer.getvalue(), encoding="utf-8")
    assert json.loads(buffer.getvalue())["token_store_path"] == str(store)
    return config_path
