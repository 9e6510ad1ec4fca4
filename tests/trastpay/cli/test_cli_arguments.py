"""Every command answers --help, and bad arguments get a clear message and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

COMMANDS = [
    [],
    ["auth"],
    ["auth", "login"],
    ["statement"],
    ["statement", "export"],
    ["microloans"],
    ["fx"],
    ["webhooks"],
    ["webhooks", "serve"],
    ["webhooks", "replay"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "trastpay")
def test_given_any_command_when_asked_for_help_then_usage_and_exit_0(
    run_cli: Any, command: list[str]
) -> None:
    result = run_cli(*command, "--help")

    assert result.code == 0
    assert result.stdout.startswith("usage: trastpay")


def test_given_installed_console_script_when_run_with_help_then_exit_0() -> None:
    script = Path(sys.executable).with_name("trastpay")

    completed = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )

    assert completed.returncode == 0
    assert "auth" in completed.stdout


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["bogus"], "invalid choice: 'bogus'"),
        (["auth", "login", "--device-id", "d"], "the following arguments are required: --phone"),
        (["statement", "export", "--card", "crd_x"], "the following arguments are required: --from"),
        (
            ["webhooks", "serve", "--secret", "s3cr3t", "--db", "x", "--port", "1"],
            "the following arguments are required: --secret-env",
        ),
        (
            ["webhooks", "serve", "--secret-env", "S", "--db", "x", "--port", "70000"],
            "'70000' is not a TCP port",
        ),
        (
            [
                "webhooks",
                "serve",
                "--secret-env",
                "S",
                "--db",
                "x",
                "--port",
                "0",
                "--grace-until",
                "2026-03-05",
            ],
            "needs a UTC offset",
        ),
    ],
)
def test_given_bad_arguments_when_run_then_exit_2_with_a_message_naming_the_problem(
    run_cli: Any, argv: list[str], expected: str
) -> None:
    result = run_cli(*argv)

    assert result.code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_given_secret_env_not_set_when_serving_then_exit_1_naming_the_variable(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRASTPAY_TEST_UNSET_SECRET", raising=False)

    result = run_cli(
        "webhooks", "serve", "--secret-env", "TRASTPAY_TEST_UNSET_SECRET", "--db", str(tmp_path / "e.sqlite"),
        "--port", "0",
    )  # fmt: skip

    assert result.code == 1
    assert (
        result.stderr
        == "error: --secret-env: environment variable TRASTPAY_TEST_UNSET_SECRET is not set or empty\n"
    )


def test_given_previous_secret_without_grace_when_serving_then_exit_1(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRASTPAY_TEST_SECRET", "whsec_x")

    result = run_cli(
        "webhooks", "serve", "--secret-env", "TRASTPAY_TEST_SECRET",
        "--previous-secret-env", "TRASTPAY_TEST_SECRET", "--db", str(tmp_path / "e.sqlite"), "--port", "0",
    )  # fmt: skip

    assert result.code == 1
    assert "--previous-secret-env and --grace-until go together" in result.stderr
    assert "whsec_x" not in result.stderr


def test_given_card_that_looks_like_a_pan_when_exporting_then_exit_1_and_the_number_is_masked(
    run_cli: Any, tmp_path: Path
) -> None:
    result = run_cli(
        "statement", "export", "--card", "8600301234566887", "--from", "2026-09-01", "--to", "2026-09-30",
        "--format", "json", "--out", str(tmp_path / "s.json"), "--config", str(tmp_path / "none.json"),
    )  # fmt: skip

    assert result.code == 1
    assert "8600301234566887" not in result.stderr
    assert "is not a card token" in result.stderr
