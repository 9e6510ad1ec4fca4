"""`trastpay statement export --format <accounting format>`: the API's statement, converted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pycamt.parser import Camt053Parser

from trastpay_sandbox.testing import SandboxServer


@pytest.fixture(scope="module")
def card_token(sandbox: SandboxServer, phones: list[str]) -> str:
    token: str = sandbox.customers()[0]["cards"][0]["card_token"]
    return token


def test_given_a_real_card_when_exporting_camt053_then_the_file_reads_back_with_the_json_balances(
    cli_config: Path, card_token: str, tmp_path: Path, run_cli: Any
) -> None:
    common = ("statement", "export", "--card", card_token, "--from", "2026-09-01", "--to", "2026-09-30")
    json_out, camt_out = tmp_path / "statement.json", tmp_path / "statement.xml"

    assert run_cli(*common, "--format", "json", "--out", str(json_out), "--config", str(cli_config)).code == 0
    result = run_cli(*common, "--format", "camt053", "--out", str(camt_out), "--config", str(cli_config))

    assert result.code == 0, result.stderr
    document = json.loads(json_out.read_bytes())
    (info,) = Camt053Parser(camt_out.read_bytes()).get_statement_info()
    assert info["OpeningBalance"] == document["opening_balance"]
    assert info["ClosingBalance"] == document["closing_balance"]


def test_given_an_unknown_format_when_exporting_then_exit_2_lists_the_accounting_formats(
    cli_config: Path, card_token: str, tmp_path: Path, run_cli: Any
) -> None:
    result = run_cli(
        "statement", "export", "--card", card_token, "--from", "2026-09-01", "--to", "2026-09-30",
        "--format", "xls", "--out", str(tmp_path / "x"), "--config", str(cli_config),
    )  # fmt: skip
    assert result.code == 2
    assert "1c" in result.stderr
    assert "camt053" in result.stderr
