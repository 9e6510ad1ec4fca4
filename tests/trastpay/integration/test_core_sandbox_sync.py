"""The core against a real sandbox subprocess on 127.0.0.1: syncs equal the sandbox's truth."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from trastpay.client import TrastpayClient
from trastpay.config import TrastpayConfig, parse_config
from trastpay.cursors import parse_instant
from trastpay.errors import AuthError, ConnectionFailed, PermissionDenied, ReauthRequired
from trastpay.masking import luhn_valid
from trastpay.session import Checkpoint, TrastpaySession
from trastpay.state import StreamState
from trastpay.streams import STREAMS, get_stream
from trastpay.token_store import TokenStore
from trastpay_sandbox import testing
from trastpay_sandbox.login_config import login_config

DEVICE = "dev-core-it"
CLIENT = "core-it"
START = "2026-06-01"
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]{13,19}(?![0-9])")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    server = testing.SandboxServer(customers=2, seed=7)
    with server:
        yield server
    server.cleanup()


@pytest.fixture(scope="module")
def phone(sandbox: Any) -> str:
    return str(sandbox.customers()[0]["phone"])


class Login:
    """A fresh OTP login whose rotations are kept like an adapter would keep them."""

    def __init__(self, sandbox: Any, phone: str, **overrides: Any) -> None:
        raw = login_config(
            sandbox,
            phone=phone,
            device_id=DEVICE,
            client_id=CLIENT,
            start_date=START,
            **{"max_retries": 3, **overrides},
        )
        self.first_refresh_token: str = raw["refresh_token"]
        self.rotations: list[str] = []
        self.config: TrastpayConfig = parse_config(raw)

    def session(self, config: TrastpayConfig | None = None) -> TrastpaySession:
        return TrastpaySession(
            config or self.config,
            on_rotate=lambda grant: self.rotations.append(grant.refresh_token),
            sleep=lambda s: None,
        )


def _sync(session: TrastpaySession, stream_name: str, state: StreamState) -> list[dict[str, Any]]:
    stream = get_stream(stream_name)
    records: list[dict[str, Any]] = []
    for partition in session.partitions(stream):
        for item in session.read(stream, partition, state.cursor_for(partition.key)):
            if isinstance(item, Checkpoint):
                state.advance(partition.key, item.cursor)
            else:
                records.append(item)
    return records


def _since_start(truth: list[dict[str, Any]], cursor_field: str) -> dict[str, dict[str, Any]]:
    start = parse_instant(START)
    return {r["id"]: r for r in truth if parse_instant(r[cursor_field]) >= start}


def test_given_fresh_login_when_checking_then_refresh_rotates_and_cards_read(
    sandbox: Any, phone: str
) -> None:
    login = Login(sandbox, phone)
    with login.session() as session:
        session.check()
    assert len(login.rotations) == 1
    assert login.rotations[0] != login.first_refresh_token


def test_given_card_transactions_when_full_sync_then_ids_and_sums_equal_truth(
    sandbox: Any, phone: str
) -> None:
    login = Login(sandbox, phone, page_size=50)
    with login.session() as session:
        records = _sync(session, "card_transactions", StreamState(get_stream("card_transactions")))
    expected = _since_start(sandbox.truth("card_transactions", phone), "occurred_at")
    got = {r["id"]: r for r in records}
    assert set(got) == set(expected)
    assert sum(r["amount_minor"] for r in got.values()) == sum(r["amount_minor"] for r in expected.values())
    assert all(type(r["amount_minor"]) is int for r in records)


def test_given_saved_state_when_clock_advances_then_incremental_sync_converges_to_truth(
    sandbox: Any, phone: str
) -> None:
    login = Login(sandbox, phone, settlement_lag_days=7)
    state = StreamState(get_stream("card_transactions"))
    with login.session() as session:
        destination = {r["id"]: r for r in _sync(session, "card_transactions", state)}
    sandbox.advance("P2D")
    next_login = Login(sandbox, phone, settlement_lag_days=7)
    with next_login.session() as session:
        destination.update({r["id"]: r for r in _sync(session, "card_transactions", state)})
    expected = _since_start(sandbox.truth("card_transactions", phone), "occurred_at")
    assert set(destination) == set(expected)
    assert {k: r["status"] for k, r in destination.items()} == {k: r["status"] for k, r in expected.items()}


def test_given_every_synced_record_when_scanned_then_no_full_card_number(sandbox: Any, phone: str) -> None:
    login = Login(sandbox, phone)
    with login.session() as session:
        records = _sync(session, "cards", StreamState(get_stream("cards")))
        records += _sync(session, "card_transactions", StreamState(get_stream("card_transactions")))
    assert records, "nothing was synced, so nothing was scanned"
    for record in records:
        for value in record.values():
            if isinstance(value, str):
                assert not any(luhn_valid(run) for run in _DIGIT_RUN.findall(value))


def test_given_malformed_page_fault_when_reading_then_retried_and_complete(sandbox: Any, phone: str) -> None:
    login = Login(sandbox, phone, page_size=100)
    sandbox.set_faults({"malformed_page": {"next_n": 1}})
    try:
        with login.session() as session:
            records = _sync(session, "card_transactions", StreamState(get_stream("card_transactions")))
    finally:
        sandbox.clear_faults()
    expected = _since_start(sandbox.truth("card_transactions", phone), "occurred_at")
    assert {r["id"] for r in records} == set(expected)


def test_given_token_expiring_mid_pagination_when_reading_then_refreshes_once_per_expiry(
    sandbox: Any, phone: str
) -> None:
    login = Login(sandbox, phone, page_size=20)
    sandbox.set_faults({"expire_token_after_pages": 2})
    try:
        with login.session() as session:
            records = _sync(session, "card_transactions", StreamState(get_stream("card_transactions")))
    finally:
        sandbox.clear_faults()
    expected = _since_start(sandbox.truth("card_transactions", phone), "occurred_at")
    assert {r["id"] for r in records} == set(expected)
    assert len(login.rotations) >= 2


def test_given_spent_refresh_token_when_presented_again_then_reauth_required(
    sandbox: Any, phone: str
) -> None:
    login = Login(sandbox, phone)
    with login.session() as session:
        session.check()
    with login.session() as stale, pytest.raises(ReauthRequired, match="trastpay auth login"):
        stale.check()


def test_given_wrong_device_when_checking_then_auth_error_names_device_id(sandbox: Any, phone: str) -> None:
    login = Login(sandbox, phone)
    wrong = parse_config({**_raw(login.config), "device_id": "some-other-device"})
    with login.session(wrong) as session, pytest.raises(AuthError, match="device_id"):
        session.check()


def _raw(config: TrastpayConfig) -> dict[str, Any]:
    return {
        "base_url": config.base_url,
        "client_id": config.client_id,
        "device_id": config.device_id,
        "refresh_token": config.refresh_token,
        "start_date": START,
    }


class _LosesFirstRefreshAnswer(requests.Session):
    """Delivers the first refresh to the server, then drops its answer like a broken connection."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        if str(url).endswith("/auth/refresh") and self.dropped == 0:
            self.dropped += 1
            raise requests.ConnectionError("connection reset after the request was sent")
        return response


def _lossy_session(login: Login) -> TrastpaySession:
    client = TrastpayClient(
        login.config,
        on_rotate=lambda grant: login.rotations.append(grant.refresh_token),
        session=_LosesFirstRefreshAnswer(),
        sleep=lambda s: None,
    )
    return TrastpaySession(
        login.config, on_rotate=lambda grant: login.rotations.append(grant.refresh_token), client=client
    )


def test_given_grace_server_and_lost_refresh_answer_when_checking_then_one_resend_succeeds() -> None:
    with testing.SandboxServer(customers=1, seed=3, refresh_grace=True) as grace:
        login = Login(grace, str(grace.customers()[0]["phone"]))
        with _lossy_session(login) as session:
            session.check()
        assert len(login.rotations) == 1


def test_given_strict_server_and_lost_refresh_answer_when_checking_then_reauth_required(
    sandbox: Any, phone: str
) -> None:
    login = Login(sandbox, phone)
    with _lossy_session(login) as session, pytest.raises(ReauthRequired, match="trastpay auth login"):
        session.check()
    assert login.rotations == []


def test_given_rate_limit_storm_when_reading_then_waits_for_retry_after_and_completes(
    sandbox: Any, phone: str
) -> None:
    login = Login(sandbox, phone)
    with TrastpaySession(
        login.config, on_rotate=lambda grant: login.rotations.append(grant.refresh_token)
    ) as session:
        session.check()
        sandbox.set_faults({"rate_limit_storm": {"duration_s": 1, "retry_after_s": 1}})
        try:
            started = time.monotonic()
            records = _sync(session, "cards", StreamState(get_stream("cards")))
            waited = time.monotonic() - started
        finally:
            sandbox.clear_faults()
    assert records
    assert waited >= 1.0


def test_given_nothing_listening_when_checking_then_connection_failed_names_base_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/api/v1/trastpay"
    config = parse_config(
        {
            "base_url": base_url,
            "client_id": CLIENT,
            "device_id": DEVICE,
            "refresh_token": "rt_unused",
            "start_date": START,
            "max_retries": 1,
        }
    )
    session = TrastpaySession(config, on_rotate=lambda token: None, sleep=lambda s: None)
    with session, pytest.raises(ConnectionFailed) as caught:
        session.check()
    assert base_url in str(caught.value)
    assert "rt_unused" not in str(caught.value)


@pytest.mark.parametrize("stream_name", [s.name for s in STREAMS])
def test_given_any_stream_when_full_sync_then_primary_keys_equal_truth(
    sandbox: Any, phone: str, stream_name: str
) -> None:
    stream = get_stream(stream_name)
    login = Login(sandbox, phone)
    with login.session() as session:
        records = _sync(session, stream_name, StreamState(stream))
    truth = sandbox.truth(stream_name, phone)
    if stream.cursor_field is not None:
        start = parse_instant(START)
        truth = [r for r in truth if parse_instant(r[stream.cursor_field]) >= start]

    def key(record: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(record[k] for k in stream.primary_key)

    assert sorted(map(key, records)) == sorted(map(key, truth))


def test_given_login_without_a_scope_when_reading_then_permission_denied_names_the_scope(
    sandbox: Any, phone: str
) -> None:
    config = parse_config(
        login_config(
            sandbox, phone=phone, device_id=DEVICE, client_id=CLIENT, start_date=START, scopes=["cards:read"]
        )
    )
    with TrastpaySession(config, on_rotate=lambda token: None) as session:
        session.check()
        with pytest.raises(PermissionDenied, match="transfers:read") as caught:
            _sync(session, "transfers", StreamState(get_stream("transfers")))
    assert caught.value.failure_type == "config_error"


_RACER = """
import sys
from trastpay.config import parse_config
from trastpay.session import TrastpaySession
from trastpay.token_store import TokenStore
base_url, store_path, token = sys.argv[1:4]
store = TokenStore(store_path)
config = parse_config({"base_url": base_url, "client_id": "core-it", "device_id": "dev-core-it",
                       "refresh_token": token, "start_date": "2026-06-01"})
print("ready", flush=True)
sys.stdin.readline()
rotation = {"on_rotate": store.save_grant, "lock_factory": store.rotation_lock, "reload": store.load}
with TrastpaySession(config, **rotation) as s:
    s.check()
print("ok", flush=True)
"""


def test_given_two_processes_share_a_token_store_when_refreshing_at_once_then_both_succeed(
    sandbox: Any, phone: str, tmp_path: Path
) -> None:
    login = Login(sandbox, phone)
    store = TokenStore(tmp_path / "tokens.json")
    store.save(login.first_refresh_token)
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, sandbox.api_url, str(store.path), login.first_refresh_token],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for racer in racers:
            assert racer.stdout is not None
            assert racer.stdout.readline().strip() == "ready"
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        outcomes = [racer.communicate(timeout=60) for racer in racers]
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
    assert [r.returncode for r in racers] == [0, 0], [err[-500:] for _, err in outcomes]
    newest = store.load()
    assert newest is not None
    assert newest != login.first_refresh_token
