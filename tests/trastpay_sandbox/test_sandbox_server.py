"""The real server: the CLI, the SandboxServer harness, and faults only a socket can show."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from trastpay_sandbox.cli import main
from trastpay_sandbox.testing import SandboxError, SandboxServer


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=2, history_days=60) as server:
        yield server


def _headers(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}", "X-Device-Id": "dev-test"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "70000"], "port must be 0..65535"),
        (["--customers", "0"], "expected an integer >= 1"),
        (["--clock-start", "2026-11-01T12:00:00"], "needs an offset"),
        (["--faults", "{not json"], "not valid JSON"),
        (["--faults", '{"gremlins": 1}'], "faults.gremlins"),
        (["--rate-limit-per-token", "-1"], "expected a number > 0"),
    ],
)
def test_given_bad_argument_when_cli_starts_then_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_given_busy_port_when_cli_starts_then_exits_with_clear_message() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]

        with pytest.raises(SystemExit) as exited:
            main(["--port", str(port), "--customers", "1", "--history-days", "5"])

    assert "cannot listen" in str(exited.value.code)


@pytest.mark.parametrize(("host", "warned"), [("0.0.0.0", True), ("127.0.0.1", False)])
def test_given_a_host_when_cli_starts_then_it_warns_unless_loopback(
    capsys: pytest.CaptureFixture[str], host: str, warned: bool
) -> None:
    with socket.socket() as busy:
        busy.bind((host, 0))
        busy.listen(1)
        port = busy.getsockname()[1]

        with pytest.raises(SystemExit):
            main(["--host", host, "--port", str(port), "--customers", "1", "--history-days", "5"])

    assert ("is not a loopback address" in capsys.readouterr().err) is warned


def test_given_server_when_started_then_urls_point_at_a_live_api(sandbox: SandboxServer) -> None:
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    assert sandbox.api_url == sandbox.base_url + "/api/v1/trastpay"
    assert requests.get(sandbox.base_url + "/openapi.json", timeout=10).status_code == 200


def test_given_server_log_when_started_then_lists_customers_without_secrets(sandbox: SandboxServer) -> None:
    assert sandbox.log_path is not None
    log = sandbox.log_path.read_text()
    phones = [customer["phone"] for customer in sandbox.customers()]

    assert all(phone in log for phone in phones)
    assert "Trastpay sandbox on " + sandbox.base_url in log


def test_given_harness_when_logging_in_then_tokens_read_cards(sandbox: SandboxServer) -> None:
    phone = sandbox.customers()[0]["phone"]

    tokens = sandbox.login(phone, scopes=["cards:read"])

    response = requests.get(sandbox.api_url + "/cards", headers=_headers(tokens), timeout=10)
    assert response.status_code == 200
    assert tokens["scopes"] == ["cards:read"]


def test_given_harness_when_advancing_then_clock_and_truth_move(sandbox: SandboxServer) -> None:
    phone = sandbox.customers()[0]["phone"]
    before_events = len(sandbox.truth("events", phone))
    before = sandbox.now()

    sandbox.advance("P2D")

    assert sandbox.now() > before
    assert len(sandbox.truth("events", phone)) >= before_events


def test_given_harness_when_bad_hook_input_then_sandbox_error_with_status(sandbox: SandboxServer) -> None:
    with pytest.raises(SandboxError) as caught:
        sandbox.advance("tomorrow")

    assert caught.value.status == 400


def test_given_connection_reset_fault_when_reading_then_client_sees_broken_connection(
    sandbox: SandboxServer,
) -> None:
    tokens = sandbox.login(sandbox.customers()[0]["phone"])
    sandbox.set_faults({"connection_reset": {"every_n": 1}})
    try:
        with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
            requests.get(sandbox.api_url + "/cards", headers=_headers(tokens), timeout=10)
        counters = sandbox.faults()["counters"]
    finally:
        sandbox.clear_faults()

    assert counters["connection_reset"] == 1
    assert requests.get(sandbox.api_url + "/cards", headers=_headers(tokens), timeout=10).status_code == 200
    assert sandbox.log_path is not None
    assert "InjectedConnectionReset" not in sandbox.log_path.read_text()


def test_given_slow_response_fault_when_client_timeout_shorter_then_read_times_out(
    sandbox: SandboxServer,
) -> None:
    tokens = sandbox.login(sandbox.customers()[0]["phone"])
    sandbox.set_faults({"slow_response": {"delay_s": 2, "every_n": 1}})
    try:
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(sandbox.api_url + "/cards", headers=_headers(tokens), timeout=0.5)
    finally:
        sandbox.clear_faults()


def test_given_faults_kwarg_when_started_then_active_from_first_request() -> None:
    with SandboxServer(customers=1, history_days=5, faults={"error_rate": {"ratio": 1}}) as server:
        tokens = server.login(server.customers()[0]["phone"])
        status = requests.get(server.api_url + "/cards", headers=_headers(tokens), timeout=10).status_code

    assert status == 503
    assert not server.running


def test_given_bad_option_when_server_starts_then_error_quotes_the_log() -> None:
    server = SandboxServer(customers=1, faults={"nonsense": 1})

    with pytest.raises(SandboxError) as caught:
        server.start()

    assert "faults.nonsense" in str(caught.value)


def test_given_ready_file_when_written_then_it_holds_base_url(sandbox: SandboxServer) -> None:
    assert sandbox.log_path is not None
    ready = json.loads((sandbox.log_path.parent / "ready.json").read_text())

    assert ready["base_url"] == sandbox.base_url
