"""`trastpay statement export`: real files for a real card, written atomically; clear refusals."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from trastpay.token_store import TokenStore
from trastpay_sandbox.testing import SandboxServer


@pytest.fixture(scope="module")
def card_token(sandbox: SandboxServer, phones: list[str]) -> str:
    token: str = sandbox.customers()[0]["cards"][0]["card_token"]
    return token


def export(run_cli: Any, config: Path, card: str, out: Path, fmt: str, first: str = "2026-09-01") -> Any:
    return run_cli(
        "statement", "export", "--card", card, "--from", first, "--to", "2026-09-30",
        "--format", fmt, "--out", str(out), "--config", str(config),
    )  # fmt: skip


def test_given_real_card_when_exporting_json_then_file_is_the_statement_json(
    cli_config: Path, card_token: str, tmp_path: Path, run_cli: Any
) -> None:
    out = tmp_path / "statement.json"

    result = export(run_cli, cli_config, card_token, out, "json")

    assert result.code == 0, result.stderr
    document = json.loads(out.read_bytes())
    assert card_token in json.dumps(document)
    assert [p.name for p in tmp_path.iterdir()] == ["statement.json"]


def test_given_real_card_when_exporting_xlsx_then_openpyxl_opens_it(
    cli_config: Path, card_token: str, tmp_path: Path, run_cli: Any
) -> None:
    out = tmp_path / "statement.xlsx"

    result = export(run_cli, cli_config, card_token, out, "xlsx")

    assert result.code == 0, result.stderr
    workbook = openpyxl.load_workbook(out, read_only=True)
    assert workbook.sheetnames
    assert workbook.worksheets[0].max_row > 1


def test_given_real_card_when_exporting_pdf_then_file_is_a_pdf(
    cli_config: Path, card_token: str, tmp_path: Path, run_cli: Any
) -> None:
    out = tmp_path / "statement.pdf"

    result = export(run_cli, cli_config, card_token, out, "pdf")

    assert result.code == 0, result.stderr
    content = out.read_bytes()
    assert content.startswith(b"%PDF")
    assert b"%%EOF" in content[-1024:]


def test_given_unknown_card_when_exporting_then_exit_1_naming_the_card_and_no_file(
    cli_config: Path, tmp_path: Path, run_cli: Any
) -> None:
    out = tmp_path / "statement.json"

    result = export(run_cli, cli_config, "crd_doesnotexist", out, "json")

    assert result.code == 1
    assert result.stderr.startswith("error: ")
    assert "crd_doesnotexist" in result.stderr
    assert not out.exists()


def test_given_from_after_to_when_exporting_then_exit_1_naming_both_dates(
    cli_config: Path, card_token: str, tmp_path: Path, run_cli: Any
) -> None:
    result = export(run_cli, cli_config, card_token, tmp_path / "s.json", "json", first="2026-10-01")

    assert result.code == 1
    assert "--from 2026-10-01 is after --to 2026-09-30" in result.stderr


@pytest.mark.parametrize(
    ("argv_change", "expected"),
    [
        (("--format", "xls"), "invalid choice: 'xls'"),
        (("--from", "01.09.2026"), "'01.09.2026' is not a date"),
    ],
)
def test_given_bad_argument_when_exporting_then_exit_2_naming_it(
    cli_config: Path,
    card_token: str,
    tmp_path: Path,
    run_cli: Any,
    argv_change: tuple[str, str],
    expected: str,
) -> None:
    argv = {
        "--card": card_token, "--from": "2026-09-01", "--to": "2026-09-30", "--format": "json",
        "--out": str(tmp_path / "s"), "--config": str(cli_config),
    }  # fmt: skip
    argv[argv_change[0]] = argv_change[1]

    result = run_cli("statement", "export", *[part for pair in argv.items() for part in pair])

    assert result.code == 2
    assert expected in result.stderr


def test_given_missing_config_file_when_exporting_then_exit_1_naming_the_file(
    card_token: str, tmp_path: Path, run_cli: Any
) -> None:
    missing = tmp_path / "nope.json"

    result = export(run_cli, missing, card_token, tmp_path / "s.json", "json")

    assert result.code == 1
    assert f"config file {missing} does not exist" in result.stderr


def test_given_config_missing_a_field_when_exporting_then_exit_1_naming_the_field(
    cli_config: Path, card_token: str, tmp_path: Path, run_cli: Any
) -> None:
    broken = tmp_path / "config.json"
    raw = json.loads(cli_config.read_text(encoding="utf-8"))
    del raw["device_id"]
    broken.write_text(json.dumps(raw), encoding="utf-8")

    result = export(run_cli, broken, card_token, tmp_path / "s.json", "json")

    assert result.code == 1
    assert "Invalid config field 'device_id'" in result.stderr


def test_given_login_store_when_exporting_then_the_rotated_refresh_token_is_saved_0600(
    cli_config: Path, card_token: str, tmp_path: Path, run_cli: Any, sandbox: SandboxServer
) -> None:
    store = TokenStore(json.loads(cli_config.read_text(encoding="utf-8"))["token_store_path"])
    before = store.load()
    sandbox.expire_tokens()  # the stored access token is refused: the export must rotate

    result = export(run_cli, cli_config, card_token, tmp_path / "s.json", "json")

    assert result.code == 0, result.stderr
    after = store.load()
    assert after is not None
    assert after != before
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert after not in result.stdout + result.stderr


def test_given_refused_refresh_token_when_exporting_then_one_error_line_telling_to_log_in_again(
    cli_config: Path, card_token: str, tmp_path: Path, run_cli: Any
) -> None:
    raw = json.loads(cli_config.read_text(encoding="utf-8"))
    raw.update(refresh_token="not-a-live-token", token_store_path=str(tmp_path / "empty-store.json"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(raw), encoding="utf-8")

    result = export(run_cli, config, card_token, tmp_path / "s.json", "json")

    assert result.code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ")
    assert "trastpay auth login" in result.stderr
    assert "not-a-live-token" not in result.stderr


@pytest.mark.parametrize(
    ("faults", "refused_status"),
    [
        ({"rate_limit_storm": {"duration_s": 1, "retry_after_s": 1}}, 429),
        ({"error_rate": {"ratio": 1.0, "duration_s": 1, "status": 503}}, 503),
    ],
    ids=["rate-limited", "server-error"],
)
def test_given_a_window_of_failing_answers_when_exporting_then_retried_audited_and_written(
    sandbox: SandboxServer,
    cli_config: Path,
    card_token: str,
    tmp_path: Path,
    run_cli: Any,
    caplog: pytest.LogCaptureFixture,
    faults: dict[str, Any],
    refused_status: int,
) -> None:
    out = tmp_path / "statement.json"
    sandbox.set_faults(faults)
    try:
        with caplog.at_level(logging.INFO, logger="trastpay.audit"):
            result = export(run_cli, cli_config, card_token, out, "json")
        served = sandbox.faults()
    finally:
        sandbox.clear_faults()

    assert result.code == 0, result.stderr
    assert json.loads(out.read_bytes())
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "trastpay.audit"]
    exports = [line for line in lines if line["path"].endswith("/statement/export")]
    statuses = [line["status"] for line in exports]
    assert statuses[0] == refused_status
    assert statuses[-1] == 200
    assert set(statuses[:-1]) == {refused_status}
    assert [line["attempt"] for line in exports] == list(range(1, len(exports) + 1))
    assert exports[0]["param_names"] == ["format", "from", "to"]
    assert served, "the sandbox reported no fault counters"
