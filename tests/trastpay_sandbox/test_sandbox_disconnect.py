"""A client that hangs up mid-body (a token refresh cut short) costs the sandbox no 500 and no traceback.

Only a real socket shows this: the request headers promise a body, half of it is sent, then the
connection is closed, and uvicorn hands the app an ``http.disconnect`` while it reads the body.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from trastpay_sandbox.app import CLIENT_CLOSED_REQUEST
from trastpay_sandbox.testing import SandboxServer

API = "/api/v1/trastpay"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=1, history_days=30, faults={"journal": True}) as server:
        yield server


def _send_half_a_body_and_hang_up(sandbox: SandboxServer, path: str, body: bytes) -> None:
    address = urlsplit(sandbox.base_url)
    assert address.hostname is not None
    assert address.port is not None
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head + body[: len(body) // 2])
        connection.shutdown(socket.SHUT_WR)


def _journal_entry(sandbox: SandboxServer, path: str, deadline_s: float = 20.0) -> dict[str, Any]:
    """The journal's last entry for ``path`` once its status is known (polled against a deadline)."""
    deadline = time.monotonic() + deadline_s
    while True:
        status, raw = sandbox.request("GET", "/_sandbox/requests")
        assert status == 200, raw[:200]
        entries = [e for e in json.loads(raw)["requests"] if e["path"] == path]
        if entries and entries[-1]["status"] is not None:
            return dict(entries[-1])
        if time.monotonic() > deadline:
            pytest.fail(f"the journal never recorded an answer to {path}: {entries}")
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (API + "/auth/refresh", b'{"refresh_token": "rt_0123456789abcdef0123456789abcdef"}'),
        (API + "/auth/login", b'{"phone": "+998901234567", "otp": "123456", "device_id": "dev-1"}'),
    ],
)
def test_given_a_client_that_hangs_up_mid_body_when_the_sandbox_reads_it_then_no_500_and_no_traceback(
    sandbox: SandboxServer, path: str, body: bytes
) -> None:
    _send_half_a_body_and_hang_up(sandbox, path, body)

    entry = _journal_entry(sandbox, path)
    # One more request after the cut one, so any traceback of the cut one has reached the log.
    phone = sandbox.customers()[0]["phone"]
    assert sandbox.request("GET", f"/_sandbox/truth/cards?phone={quote(phone)}")[0] == 200

    assert entry["status"] == CLIENT_CLOSED_REQUEST
    assert sandbox.log_path is not None
    log = sandbox.log_path.read_text(encoding="utf-8", errors="replace")
    assert "ClientDisconnect" not in log
    assert "Traceback" not in log
