"""Run a real sandbox in a subprocess for tests: :class:`SandboxServer`.

The server is started with ``--port 0 --ready-file`` and waited for by polling that file against a
deadline (no fixed sleeps). Its stdout and stderr go to a log file that is quoted in the error if
start-up fails; the process is stopped on ``stop()``, on leaving the ``with`` block, and at
interpreter exit. Leaving the ``with`` block normally also deletes the working directory; when an
exception escapes it, the log is kept (``log_path``) for diagnosis. Helpers wrap the ``/_sandbox``
hooks and the OTP login.

Example::

    with SandboxServer(customers=2, faults={"latency_ms": 5}) as sandbox:
        phone = sandbox.customers()[0]["phone"]
        tokens = sandbox.login(phone)
        sandbox.advance("P1D")
        truth = sandbox.truth("transfers", phone)
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

API_PATH = "/api/v1/trastpay"


def _die_with_parent() -> None:
    """Linux: SIGTERM the server if the test process dies without running its cleanup."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


class SandboxError(RuntimeError):
    """The sandbox did not start, or a hook answered an error (``status`` and ``problem`` attached)."""

    def __init__(self, message: str, *, status: int | None = None, problem: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem


class SandboxServer:
    """A sandbox subprocess on a free 127.0.0.1 port; keyword arguments mirror the CLI flags."""

    def __init__(
        self,
        *,
        seed: int = 42,
        customers: int = 5,
        transactions: int | None = None,
        history_days: int = 400,
        cards_per_customer: int | None = None,
        clock_start: str | datetime | None = None,
        faults: dict[str, Any] | None = None,
        refresh_grace: bool = False,
        access_token_ttl: int | None = None,
        refresh_token_ttl: int | None = None,
        rate_limit_per_token: float | None = None,
        cache_mb: int | None = None,
        startup_timeout: float = 120.0,
        python: str = sys.executable,
        env: dict[str, str] | None = None,
    ) -> None:
        self._args = ["--seed", str(seed), "--customers", str(customers), "--history-days", str(history_days)]
        if transactions is not None:
            self._args += ["--transactions", str(transactions)]
        if cards_per_customer is not None:
            self._args += ["--cards-per-customer", str(cards_per_customer)]
        if clock_start is not None:
            text = clock_start.isoformat() if isinstance(clock_start, datetime) else clock_start
            self._args += ["--clock-start", text]
        if faults:
            self._args += ["--faults", json.dumps(faults)]
        if refresh_grace:
            self._args.append("--refresh-grace")
        if access_token_ttl is not None:
            self._args += ["--access-token-ttl", str(access_token_ttl)]
        if refresh_token_ttl is not None:
            self._args += ["--refresh-token-ttl", str(refresh_token_ttl)]
        if rate_limit_per_token is not None:
            self._args += ["--rate-limit-per-token", str(rate_limit_per_token)]
        if cache_mb is not None:
            self._args += ["--cache-mb", str(cache_mb)]
        self._startup_timeout = startup_timeout
        self._python = python
        self._env = env
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._base_url: str | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        if self._process is not None:
            return self
        self._workdir = Path(tempfile.mkdtemp(prefix="trastpay-sandbox-"))
        ready = self._workdir / "ready.json"
        log = (self._workdir / "server.log").open("wb")
        environment = {**os.environ, **(self._env or {}), "PYTHONUNBUFFERED": "1"}
        command = [
            self._python,
            "-m",
            "trastpay_sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--ready-file",
            str(ready),
            *self._args,
        ]
        self._process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        log.close()
        atexit.register(self.stop)
        deadline = time.monotonic() + self._startup_timeout
        delay = 0.01
        while not ready.exists():
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise SandboxError(f"sandbox exited with code {code} during start-up:\n{self._log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise SandboxError(
                    f"sandbox not ready after {self._startup_timeout:.0f} s:\n{self._log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)
        self._base_url = json.loads(ready.read_text(encoding="utf-8"))["base_url"]
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s); safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        atexit.unregister(self.stop)

    def cleanup(self) -> None:
        """Stop and delete the working directory with the log."""
        self.stop()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if exc_type is None:
            self.cleanup()

    @property
    def log_path(self) -> Path | None:
        """The server's combined stdout/stderr (kept after ``stop()``, removed by ``cleanup()``)."""
        return None if self._workdir is None else self._workdir / "server.log"

    def _log_tail(self, limit: int = 4000) -> str:
        path = self.log_path
        if path is None or not path.exists():
            return "(no log)"
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]

    @property
    def pid(self) -> int | None:
        """Process id of the running server (None when stopped)."""
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise SandboxError("the sandbox is not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        return self.base_url + API_PATH

    # --- HTTP --------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
    ) -> tuple[int, bytes]:
        """Send one request to ``base_url + path``; answers (status, body) without raising on 4xx/5xx."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (own http URL)
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:
            return int(error.code), bytes(error.read())

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        status, raw = self.request(method, path, body)
        document = json.loads(raw) if raw else None
        if status >= 400:
            detail = (
                document.get("detail") if isinstance(document, dict) else raw[:200].decode(errors="replace")
            )
            raise SandboxError(f"{method} {path} -> {status}: {detail}", status=status, problem=document)
        return document

    # --- sandbox hooks -----------------------------------------------------------------------
    def customers(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/_sandbox/customers")
        return result

    def otp(self, phone: str) -> str:
        query = urllib.parse.urlencode({"phone": phone})
        return str(self._json("GET", f"/_sandbox/otp?{query}")["otp"])

    def login(
        self,
        phone: str,
        device_id: str = "dev-test",
        client_id: str = "trastpay-connectors",
        scopes: list[str] | None = None,
    ) -> dict[str, Any]:
        """OTP login through the public auth routes; answers the token pair document."""
        self._json("POST", API_PATH + "/auth/otp", {"phone": phone})
        body: dict[str, Any] = {
            "phone": phone,
            "otp": self.otp(phone),
            "device_id": device_id,
            "client_id": client_id,
        }
        if scopes is not None:
            body["scopes"] = scopes
        tokens: dict[str, Any] = self._json("POST", API_PATH + "/auth/login", body)
        return tokens

    def now(self) -> str:
        return str(self._json("GET", "/_sandbox/clock")["now"])

    def advance(self, iso_duration: str) -> dict[str, Any]:
        """Move the sandbox clock forward (``"P1D"``, ``"PT6H"``); tokens age by the same amount."""
        result: dict[str, Any] = self._json("POST", "/_sandbox/clock", {"advance": iso_duration})
        return result

    def set_clock(self, when: str | datetime) -> dict[str, Any]:
        text = when.isoformat() if isinstance(when, datetime) else when
        result: dict[str, Any] = self._json("POST", "/_sandbox/clock", {"set": text})
        return result

    def truth(self, stream: str, phone: str) -> list[dict[str, Any]]:
        """Every record of ``stream`` for the customer with ``phone``, as of the sandbox clock."""
        query = urllib.parse.urlencode({"phone": phone})
        status, raw = self.request("GET", f"/_sandbox/truth/{stream}?{query}")
        if status != 200:
            raise SandboxError(f"truth {stream} -> {status}: {raw[:300]!r}", status=status)
        return [json.loads(line) for line in raw.splitlines() if line.strip()]

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", "/_sandbox/faults")
        return result

    def set_faults(self, faults: dict[str, Any]) -> dict[str, Any]:
        """Replace the fault switches (counters restart)."""
        result: dict[str, Any] = self._json("POST", "/_sandbox/faults", faults)
        return result

    def clear_faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._json("DELETE", "/_sandbox/faults")
        return result

    def expire_tokens(self) -> int:
        return int(self._json("POST", "/_sandbox/tokens/expire")["expired"])


# --- contract fuzzing --------------------------------------------------------------------------

CONTRACT_CHECKS = (
    "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"
)
# State-changing hooks would move the clock, switch faults on or expire the fuzzer's own token.
CONTRACT_EXCLUDED_OPERATIONS = (
    "^(sandboxClockMove|sandboxFaultsSet|sandboxFaultsClear|sandboxExpireTokens|sandboxWebhook.*)$"
)
_SCHEMATHESIS_BOOT = (
    "from trastpay_sandbox.testing import patch_hypothesis_many; patch_hypothesis_many(); "
    "from schemathesis.cli import schemathesis; schemathesis(prog_name='st')"
)


def patch_hypothesis_many() -> None:
    """Let hypothesis-jsonschema 0.23 run on the locked hypothesis 6.170.

    hypothesis-jsonschema drives ``hypothesis.internal.conjecture.utils.many`` through the old
    ``while elements.more():`` protocol, which newer hypothesis replaced with
    ``with many(...) as elements: for _ in elements:``; without this every object schema
    (request bodies, headers) fails to generate. The shim maps ``more()`` onto the new protocol
    and is a no-op when ``more`` exists.
    """
    from hypothesis.internal.conjecture import utils

    if hasattr(utils.many, "more"):
        return

    def more(self: Any) -> bool:
        if self._depth is None:
            self.__enter__()
            self._legacy_iterator = iter(self)
        try:
            next(self._legacy_iterator)
        except StopIteration:
            self.__exit__(None, None, None)
            return False
        return True

    setattr(utils.many, "more", more)  # noqa: B010


def contract_parameters(sandbox: SandboxServer, phone: str, tokens: dict[str, Any]) -> dict[str, str]:
    """Real ids for the path and query parameters, so fuzzing reaches 200 answers, not only 404s."""
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "X-Device-Id": "dev-test"}

    def first_id(path: str, key: str) -> str | None:
        status, raw = sandbox.request("GET", API_PATH + path, headers=headers)
        items = json.loads(raw)["items"] if status == 200 else []
        return str(items[0][key]) if items else None

    found = {
        "path.card_token": first_id("/cards", "card_token"),
        "path.loan_id": first_id("/microloan", "id"),
        "path.plan_id": first_id("/instalments", "id"),
        "path.deposit_id": first_id("/deposits", "id"),
        "query.phone": phone,
    }
    return {name: value for name, value in found.items() if value is not None}


def write_contract_config(path: Path, parameters: dict[str, str]) -> Path:
    """A ``schemathesis.toml`` pinning ``parameters`` (``"path.card_token" = "crd_..."``)."""
    lines = [
        "[parameters]",
        *(f"{json.dumps(name)} = {json.dumps(value)}" for name, value in parameters.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def contract_command(
    base_url: str,
    access_token: str,
    *,
    device_id: str = "dev-test",
    max_examples: int = 5,
    seed: int = 42,
    config_file: Path | None = None,
) -> list[str]:
    """The schemathesis run (as argv) that checks a live sandbox against its own ``/openapi.json``."""
    config = ["--config-file", str(config_file)] if config_file is not None else []
    return [
        sys.executable, "-c", _SCHEMATHESIS_BOOT, *config, "run", base_url + "/openapi.json",
        "-H", f"Authorization: Bearer {access_token}", "-H", f"X-Device-Id: {device_id}",
        "--checks", CONTRACT_CHECKS,
        "--exclude-operation-id-regex", CONTRACT_EXCLUDED_OPERATIONS,
        "--max-examples", str(max_examples), "--seed", str(seed),
        "--generation-database", "none", "--workers", "1", "--request-timeout", "30",
        "--no-color", "--output-sanitize", "true",
    ]  # fmt: skip


def run_contract(
    *, max_examples: int = 5, seed: int = 42, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """Start a sandbox with one customer of 400 days (loans, plans, deposits), log in, fuzz it."""
    with SandboxServer(customers=1, history_days=400) as sandbox:
        phone = sandbox.customers()[0]["phone"]
        tokens = sandbox.login(phone)
        assert sandbox.log_path is not None
        config = write_contract_config(
            sandbox.log_path.with_name("schemathesis.toml"), contract_parameters(sandbox, phone, tokens)
        )
        command = contract_command(
            sandbox.base_url, tokens["access_token"], max_examples=max_examples, seed=seed, config_file=config
        )
        result = subprocess.run(command, capture_output=capture, text=True, timeout=600, check=False)
        result.stderr = (result.stderr or "") + "\n--- sandbox log ---\n" + sandbox._log_tail(8000)
        return result


def main(argv: list[str] | None = None) -> int:
    """``python -m trastpay_sandbox.testing contract``: fuzz a fresh sandbox against its contract."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m trastpay_sandbox.testing")
    parser.add_argument("command", choices=["contract"])
    parser.add_argument("--max-examples", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    return run_contract(max_examples=args.max_examples, seed=args.seed).returncode


if __name__ == "__main__":
    raise SystemExit(main())
