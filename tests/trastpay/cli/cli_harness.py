"""Helpers of the CLI tests: a stand-in for the user typing the OTP, and captured runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trastpay_sandbox.testing import SandboxServer


class TypedOtp:
    """stdin whose one line is the OTP the sandbox has pending when the CLI reads it."""

    def __init__(self, sandbox: SandboxServer, phone: str, *, wrong: bool = False) -> None:
        self._sandbox = sandbox
        self._phone = phone
        self._wrong = wrong
        self.typed: str | None = None

    def readline(self, size: int = -1) -> str:
        code = self._sandbox.otp(self._phone)
        if self._wrong:
            code = "".join(str((int(digit) + 1) % 10) for digit in code)
        self.typed = code
        return code + "\n"


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def login_args(sandbox: SandboxServer, phone: str, store: Path, device_id: str = "dev-cli-test") -> list[str]:
    return [
        "auth",
        "login",
        "--phone",
        phone,
        "--device-id",
        device_id,
        "--base-url",
        sandbox.api_url,
        "--token-store",
        str(store),
        "--start-date",
        "2025-01-01",
        "--otp-from-stdin",
    ]
