"""HTTP client: headers, one status mapping, bounded retries with Retry-After honoured, budget, audit."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest
import requests
import responses

from trastpay.client import TrastpayClient
from trastpay.errors import (
    AuthError,
    ConnectionFailed,
    InvalidRequest,
    PayloadError,
    PermissionDenied,
    RateLimited,
    ReauthRequired,
    ServerError,
)
from trastpay.http import BACKOFF_CAP_S, error_for_status

from .builders import (
    BASE_URL,
    DEVICE_ID,
    REFRESH_TOKEN,
    VALID_PAN,
    FakeClock,
    config,
    list_page,
    problem,
    token_answer,
)

REFRESH_URL = f"{BASE_URL}/auth/refresh"
TRANSFERS_URL = f"{BASE_URL}/transfers"


def _client(jitter: float = 1.0, **cfg: Any) -> tuple[TrastpayClient, FakeClock, list[str]]:
    clock = FakeClock()
    rotations: list[str] = []
    client = TrastpayClient(
        config(**cfg),
        on_rotate=lambda grant: rotations.append(grant.refresh_token),
        sleep=clock.sleep,
        clock=clock,
        jitter=lambda: jitter,
    )
    return client, clock, rotations


def _login() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))


def _data_calls() -> list[Any]:
    return [c for c in responses.calls if c.request.url and not c.request.url.startswith(REFRESH_URL)]


@responses.activate
def test_given_consent_when_reading_then_bearer_device_consent_and_accept_headers_are_sent() -> None:
    _login()
    responses.get(TRANSFERS_URL, json=list_page([]))
    client, _, _ = _client(consent_id="cns_1")
    assert client.get_json("/transfers", {"page_size": 10}) == {"items": [], "next_page": None}
    headers = _data_calls()[0].request.headers
    assert headers["Authorization"] == "Bearer at_1"
    assert headers["X-Device-Id"] == DEVICE_ID
    assert headers["X-Consent-Id"] == "cns_1"
    assert headers["Accept"] == "application/json"


@responses.activate
def test_given_post_when_reading_statement_then_json_body_is_sent() -> None:
    _login()
    responses.post(f"{BASE_URL}/statement", json=list_page([], None))
    client, _, _ = _client()
    client.post_json("/statement", {"card_token": "crd_A1", "page": 0})
    assert orjson.loads(_data_calls()[0].request.body) == {"card_token": "crd_A1", "page": 0}


@pytest.mark.parametrize(
    ("status", "slug", "error_type"),
    [
        (400, "invalid-request", InvalidRequest),
        (404, "not-found", InvalidRequest),
        (422, "invalid-request", InvalidRequest),
        (403, "insufficient-scope", PermissionDenied),
    ],
)
@responses.activate
def test_given_client_error_when_reading_then_typed_error_and_no_retry(
    status: int, slug: str, error_type: type[Exception]
) -> None:
    _login()
    responses.get(
        TRANSFERS_URL, status=status, json=problem(status, slug, detail=f"secret detail {VALID_PAN}")
    )
    client, clock, _ = _client()
    with pytest.raises(error_type) as caught:
        client.get_json("/transfers")
    assert len(_data_calls()) == 1
    assert clock.sleeps == []
    assert VALID_PAN not in str(caught.value)
    assert "secret detail" not in str(caught.value)


@responses.activate
def test_given_403_when_reading_then_message_names_the_missing_scope() -> None:
    _login()
    responses.get(
        TRANSFERS_URL,
        status=403,
        json=problem(403, "insufficient-scope", detail="requires scope transfers:read"),
    )
    client, _, _ = _client()
    with pytest.raises(PermissionDenied, match="transfers:read") as caught:
        client.get_json("/transfers")
    assert caught.value.failure_type == "config_error"


@responses.activate
def test_given_401_when_reading_then_refreshes_once_and_resends() -> None:
    _login()
    responses.post(REFRESH_URL, json=token_answer(2))
    responses.get(TRANSFERS_URL, status=401, json=problem(401, "token-expired"))
    responses.get(TRANSFERS_URL, json=list_page([]))
    client, _, rotations = _client()
    client.get_json("/transfers")
    data = _data_calls()
    assert [c.request.headers["Authorization"] for c in data] == ["Bearer at_1", "Bearer at_2"]
    assert rotations == ["rt_1", "rt_2"]


@responses.activate
def test_given_401_twice_when_reading_then_auth_error_after_one_refresh() -> None:
    _login()
    responses.post(REFRESH_URL, json=token_answer(2))
    responses.get(TRANSFERS_URL, status=401, json=problem(401, "unauthorized"))
    client, _, _ = _client()
    with pytest.raises(AuthError):
        client.get_json("/transfers")
    assert len(_data_calls()) == 2
    assert len([c for c in responses.calls if c.request.url == REFRESH_URL]) == 2


@responses.activate
def test_given_token_that_worked_then_expired_while_waiting_when_reading_then_refreshed_again_and_read() -> (
    None
):
    # Concurrent reads: while this request waits, another one refreshes at_1 -> at_2 and uses it;
    # at_2 then expires too. This request adopts at_2, is refused, and may refresh once itself.
    _login()
    responses.post(REFRESH_URL, json=token_answer(2))
    responses.post(REFRESH_URL, json=token_answer(3))
    client, _, rotations = _client()
    expired = {"at_1"}

    def transfers(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        token = str(request.headers["Authorization"]).removeprefix("Bearer ")
        if token == "at_1":
            client.get_json("/cards")  # the "other thread": refreshes to at_2 and succeeds with it
            expired.add("at_2")
        if token in expired:
            return 401, {}, orjson.dumps(problem(401, "token-expired"))
        return 200, {}, orjson.dumps(list_page([]))

    def cards(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        token = str(request.headers["Authorization"]).removeprefix("Bearer ")
        if token in expired:
            return 401, {}, orjson.dumps(problem(401, "token-expired"))
        return 200, {}, orjson.dumps(list_page([]))

    responses.add_callback(responses.GET, TRANSFERS_URL, callback=transfers)
    responses.add_callback(responses.GET, f"{BASE_URL}/cards", callback=cards)
    client.get_json("/transfers")
    sent = [
        str(c.request.headers["Authorization"]) for c in _data_calls() if "/transfers" in str(c.request.url)
    ]
    assert sent == ["Bearer at_1", "Bearer at_2", "Bearer at_3"]
    assert rotations == ["rt_1", "rt_2", "rt_3"]


@responses.activate
def test_given_fresh_token_refused_on_first_use_when_reading_then_auth_error_without_a_second_refresh() -> (
    None
):
    _login()
    responses.post(REFRESH_URL, json=token_answer(2))
    responses.post(REFRESH_URL, json=token_answer(3))
    responses.get(TRANSFERS_URL, status=401, json=problem(401, "token-revoked"))
    client, _, _ = _client()
    with pytest.raises(AuthError, match="401"):
        client.get_json("/transfers")
    assert len(_data_calls()) == 2
    assert len([c for c in responses.calls if c.request.url == REFRESH_URL]) == 2  # login + one refresh


@responses.activate
def test_given_device_mismatch_when_reading_then_auth_error_names_device_id_without_refresh() -> None:
    _login()
    responses.get(TRANSFERS_URL, status=401, json=problem(401, "device-mismatch"))
    client, _, _ = _client()
    with pytest.raises(AuthError, match="device_id"):
        client.get_json("/transfers")
    assert len([c for c in responses.calls if c.request.url == REFRESH_URL]) == 1


@responses.activate
def test_given_429_with_retry_after_when_reading_then_waits_at_least_that_long() -> None:
    _login()
    responses.get(TRANSFERS_URL, status=429, json=problem(429, "rate-limited"), headers={"Retry-After": "7"})
    responses.get(TRANSFERS_URL, json=list_page([]))
    client, clock, _ = _client(jitter=0.0)
    client.get_json("/transfers")
    assert sum(clock.sleeps) >= 7
    assert len(_data_calls()) == 2


@responses.activate
def test_given_429_with_http_date_retry_after_when_reading_then_never_retries_earlier() -> None:
    _login()
    responses.get(
        TRANSFERS_URL,
        status=429,
        json=problem(429, "rate-limited"),
        headers={"Retry-After": "Fri, 31 Dec 2100 23:59:59 GMT"},
    )
    client, clock, _ = _client(jitter=0.0)
    with pytest.raises(RateLimited) as caught:
        client.get_json("/transfers")
    assert clock.sleeps == []
    assert caught.value.failure_type == "transient_error"


@responses.activate
def test_given_429_when_reading_then_budget_paused_for_every_caller() -> None:
    _login()
    responses.get(TRANSFERS_URL, status=429, json=problem(429, "rate-limited"), headers={"Retry-After": "5"})
    responses.get(TRANSFERS_URL, json=list_page([]))
    client, clock, _ = _client(jitter=0.0)
    before = clock()
    client.get_json("/transfers")
    assert client.budget.paused_until >= before + 5


@responses.activate
def test_given_500_then_success_when_reading_then_retried_and_returns() -> None:
    _login()
    responses.get(TRANSFERS_URL, status=500, json=problem(500, "internal"))
    responses.get(TRANSFERS_URL, json=list_page([{"id": "trf_1"}]))
    client, clock, _ = _client()
    assert client.get_json("/transfers")["items"] == [{"id": "trf_1"}]
    assert len(clock.sleeps) == 1


@responses.activate
def test_given_persistent_503_when_reading_then_bounded_attempts_and_server_error() -> None:
    _login()
    responses.get(TRANSFERS_URL, status=503, json=problem(503, "unavailable"))
    client, clock, _ = _client(max_retries=3)
    with pytest.raises(ServerError, match="503"):
        client.get_json("/transfers")
    assert len(_data_calls()) == 4
    assert len(clock.sleeps) == 3
    assert all(wait <= BACKOFF_CAP_S for wait in clock.sleeps)


def test_given_many_attempts_when_backing_off_then_exponential_and_capped() -> None:
    client, _, _ = _client(jitter=1.0)
    waits = [client.backoff(attempt, None) for attempt in range(1, 12)]
    assert waits[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(waits) == BACKOFF_CAP_S
    assert client.backoff(1, 12.0) == 12.0


@responses.activate
def test_given_connection_error_when_reading_then_retried_then_connection_failed_names_base_url() -> None:
    _login()
    responses.get(TRANSFERS_URL, body=requests.ConnectionError("refused"))
    client, clock, _ = _client(max_retries=2)
    with pytest.raises(ConnectionFailed, match=r"127\.0\.0\.1:8765"):
        client.get_json("/transfers")
    assert len(_data_calls()) == 3
    assert len(clock.sleeps) == 2


@responses.activate
def test_given_timeout_then_success_when_reading_then_retried() -> None:
    _login()
    responses.get(TRANSFERS_URL, body=requests.ReadTimeout("slow"))
    responses.get(TRANSFERS_URL, json=list_page([]))
    client, _, _ = _client()
    assert client.get_json("/transfers")["items"] == []


@pytest.mark.parametrize(
    "body", [b'{"items": [{"id": "trf_1"', b"<html>502 Bad Gateway</html>", b"[1, 2]", b"", b'"text"']
)
@responses.activate
def test_given_malformed_2xx_body_when_reading_then_retried_then_payload_error_without_body(
    body: bytes,
) -> None:
    _login()
    responses.get(TRANSFERS_URL, body=body, content_type="application/json")
    client, _, _ = _client(max_retries=1)
    with pytest.raises(PayloadError, match="/transfers") as caught:
        client.get_json("/transfers")
    assert len(_data_calls()) == 2
    assert "Bad Gateway" not in str(caught.value)
    assert "trf_1" not in str(caught.value)


@responses.activate
def test_given_not_idempotent_post_when_server_fails_then_not_retried() -> None:
    _login()
    responses.post(f"{BASE_URL}/statement", status=500, json=problem(500, "internal"))
    client, _, _ = _client()
    with pytest.raises(ServerError):
        client.post_json("/statement", {"page": 0}, idempotent=False)
    assert len(_data_calls()) == 1


@responses.activate
def test_given_revoked_login_when_reading_then_reauth_required_not_retried() -> None:
    responses.post(REFRESH_URL, status=401, json=problem(401, "refresh-token-reused"))
    client, clock, _ = _client()
    with pytest.raises(ReauthRequired):
        client.get_json("/transfers")
    assert clock.sleeps == []


@responses.activate
def test_given_calls_when_reading_then_one_audit_line_per_call_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _login()
    responses.get(TRANSFERS_URL, status=500, json=problem(500, "internal"))
    responses.get(TRANSFERS_URL, json=list_page([]))
    client, _, _ = _client(consent_id="cns_42")
    with caplog.at_level(logging.INFO, logger="trastpay.audit"):
        client.get_json("/transfers", {"since": "2026-01-01T00:00:00+05:00", "card": VALID_PAN})
    lines = [orjson.loads(r.getMessage()) for r in caplog.records if r.name == "trastpay.audit"]
    data_lines = [line for line in lines if line["path"] == "/transfers"]
    assert [line["status"] for line in data_lines] == [500, 200]
    assert [line["attempt"] for line in data_lines] == [1, 2]
    assert data_lines[0]["request_hash"] == data_lines[1]["request_hash"]
    assert len(data_lines[0]["request_hash"]) == 16
    assert data_lines[0]["param_names"] == ["card", "since"]
    assert all(line["consent_id"] == "cns_42" for line in lines)
    text = caplog.text
    for secret in (REFRESH_TOKEN, "rt_1", "at_1", VALID_PAN, "2026-01-01T00"):
        assert secret not in text


def test_given_statuses_when_mapped_then_one_function_gives_every_error_type() -> None:
    assert isinstance(error_for_status(400, "GET", "/x"), InvalidRequest)
    assert isinstance(error_for_status(401, "GET", "/x"), AuthError)
    assert isinstance(error_for_status(403, "GET", "/x", scope="fx:read"), PermissionDenied)
    assert "fx:read" in str(error_for_status(403, "GET", "/x", scope="fx:read"))
    assert isinstance(error_for_status(429, "GET", "/x"), RateLimited)
    assert isinstance(error_for_status(502, "GET", "/x"), ServerError)


@responses.activate
def test_given_pool_when_built_then_sized_to_max_concurrency() -> None:
    client, _, _ = _client(max_concurrency=7)
    adapter = client.session.get_adapter(BASE_URL)
    assert adapter._pool_maxsize == 7  # type: ignore[attr-defined]


@responses.activate
def test_given_401_and_lost_refresh_answer_when_reading_then_one_resend_and_the_read_succeeds() -> None:
    _login()
    responses.get(TRANSFERS_URL, status=401, json=problem(401, "token-expired"))
    responses.post(REFRESH_URL, body=requests.ConnectionError("reset after send"))
    responses.post(REFRESH_URL, json=token_answer(2))
    responses.get(TRANSFERS_URL, json=list_page([]))
    client, _, rotations = _client()
    assert client.get_json("/transfers") == {"items": [], "next_page": None}
    sent = [
        orjson.loads(c.request.body or b"")["refresh_token"]
        for c in responses.calls
        if c.request.url == REFRESH_URL
    ]
    assert sent == [REFRESH_TOKEN, "rt_1", "rt_1"]
    assert rotations == ["rt_1", "rt_2"]
    assert _data_calls()[-1].request.headers["Authorization"] == "Bearer at_2"


@responses.activate
def test_given_fresh_token_answered_expired_when_reading_then_refreshed_again_within_the_bound() -> None:
    # Concurrent reads can use up a fresh token before this request's resend: "expired" is not "refused".
    _login()
    for n in (2, 3):
        responses.post(REFRESH_URL, json=token_answer(n))
    responses.get(TRANSFERS_URL, status=401, json=problem(401, "token-expired"))
    responses.get(TRANSFERS_URL, status=401, json=problem(401, "token-expired"))
    responses.get(TRANSFERS_URL, json=list_page([]))
    client, _, rotations = _client()
    assert client.get_json("/transfers") == {"items": [], "next_page": None}
    assert rotations == ["rt_1", "rt_2", "rt_3"]
