"""`trastpay auth login`: the refresh token lands only in a 0600 token store; configs are ready to use."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from trastpay.config import parse_config
from trastpay.token_store import TokenStore
from trastpay_sandbox.testing import SandboxServer

from .cli_harness import TypedOtp, login_args


def test_given_otp_on_stdin_when_logging_in_then_token_store_is_0600_and_config_holds_no_secret(
    sandbox: SandboxServer, phones: list[str], tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_path = tmp_path / "store" / "tokens.json"
    typed = TypedOtp(sandbox, phones[1])
    monkeypatch.setattr("sys.stdin", typed)

    result = run_cli(*login_args(sandbox, phones[1], store_path))

    assert result.code == 0, result.stderr
    stored = TokenStore(store_path).load_tokens()
    assert stored is not None
    assert stored.consumer == "cli"
    assert stored.access_token
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    printed = result.stdout + result.stderr
    assert stored.refresh_token not in printed
    assert stored.access_token not in printed
    assert typed.typed is not None
    assert typed.typed not in printed
    config = result.json()
    assert config["token_store_path"] == str(store_path)
    parsed = parse_config(config)
    assert parsed.base_url == sandbox.api_url
    assert parsed.device_id == "dev-cli-test"
    assert str(store_path) in result.stderr


def test_given_for_airbyte_when_logging_in_then_the_config_carries_the_tokens_and_no_store_is_written(
    sandbox: SandboxServer, phones: list[str], tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", TypedOtp(sandbox, phones[1]))
    output = tmp_path / "airbyte.json"
    argv = [a for a in login_args(sandbox, phones[1], tmp_path / "unused.json") if a != "--token-store"]
    argv.remove(str(tmp_path / "unused.json"))

    result = run_cli(*argv, "--for", "airbyte", "--output", str(output))

    assert result.code == 0, result.stderr
    assert result.stdout == ""
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    config = parse_config(json.loads(output.read_text(encoding="utf-8")))
    assert config.access_token
    assert config.token_expiry_date is not None
    assert not (tmp_path / "unused.json").exists()
    assert config.refresh_token not in result.stderr


def test_given_a_store_of_another_consumer_when_logging_in_then_refused_before_any_otp(
    sandbox: SandboxServer, phones: list[str], tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_path = tmp_path / "tokens.json"
    monkeypatch.setattr("sys.stdin", TypedOtp(sandbox, phones[1]))
    assert run_cli(*login_args(sandbox, phones[1], store_path), "--for", "singer").code == 0
    before = TokenStore(store_path).load()

    result = run_cli(*login_args(sandbox, phones[1], store_path), "--for", "cli")

    assert result.code == 1
    assert "holds the singer login" in result.stderr
    assert TokenStore(store_path).load() == before


def test_given_wrong_otp_when_logging_in_then_exit_1_with_one_clear_line_and_no_store(
    sandbox: SandboxServer, phones: list[str], tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_path = tmp_path / "tokens.json"
    typed = TypedOtp(sandbox, phones[1], wrong=True)
    monkeypatch.setattr("sys.stdin", typed)

    result = run_cli(*login_args(sandbox, phones[1], store_path))

    assert result.code == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "wrong one-time password" in error_lines[0]
    assert "invalid-otp" in error_lines[0]
    assert "Traceback" not in result.stderr
    assert typed.typed is not None
    assert typed.typed not in result.stderr + result.stdout
    assert not store_path.exists()
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("phone", "expected"),
    [("998901234567", "--phone"), ("+99890123456", "+998 followed by 9 digits")],
)
def test_given_malformed_phone_when_logging_in_then_exit_1_naming_the_phone_format(
    sandbox: SandboxServer, tmp_path: Path, run_cli: Any, phone: str, expected: str
) -> None:
    result = run_cli(*login_args(sandbox, phone, tmp_path / "t.json"))

    assert result.code == 1
    assert result.stderr.startswith("error: ")
    assert expected in result.stderr


def test_given_unreachable_api_when_logging_in_then_exit_1_naming_the_url(
    tmp_path: Path, run_cli: Any
) -> None:
    url = "http://127.0.0.1:9/api/v1/trastpay"

    result = run_cli(
        "auth", "login", "--phone", "+998901234567", "--device-id", "d", "--base-url", url,
        "--token-store", str(tmp_path / "t.json"), "--otp-from-stdin",
    )  # fmt: skip

    assert result.code == 1
    assert url in result.stderr
    assert json.dumps(result.stderr).count("\\n") == 1


def test_given_a_terminal_when_logging_in_then_the_otp_is_read_without_echo(
    sandbox: SandboxServer, phones: list[str], tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    def typed_without_echo(prompt: str = "") -> str:
        prompts.append(prompt)
        return sandbox.otp(phones[1])

    monkeypatch.setattr("trastpay.cli.auth_cmd.getpass.getpass", typed_without_echo)
    argv = [arg for arg in login_args(sandbox, phones[1], tmp_path / "t.json") if arg != "--otp-from-stdin"]

    result = run_cli(*argv)

    assert result.code == 0, result.stderr
    assert len(prompts) == 1
    assert phones[1] not in prompts[0]


def test_given_singer_config_from_login_when_the_tap_picks_its_token_then_it_uses_the_stored_one(
    sandbox: SandboxServer, phones: list[str], tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tap_trastpay.tokens import TapTokens

    store_path = tmp_path / "tokens.json"
    Path(str(store_path) + ".seed").write_text("fingerprint-of-an-older-login", encoding="ascii")
    monkeypatch.setattr("sys.stdin", TypedOtp(sandbox, phones[1]))

    result = run_cli(*login_args(sandbox, phones[1], store_path))

    assert result.code == 0, result.stderr
    singer = parse_config(result.json())
    tokens = TapTokens(TokenStore(store_path))
    assert tokens.initial_refresh_token(singer.refresh_token) == TokenStore(store_path).load()
