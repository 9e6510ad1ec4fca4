"""Token manager: refresh early and once on 401, save each rotation first, never resend a spent token."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import requests
import responses

from trastpay.auth import RotationHeld, TokenGrant, TokenManager, format_expiry
from trastpay.client import requestor_for
from trastpay.errors import AuthError, ConnectionFailed, ReauthRequired, ServerError, TrastpayError
from trastpay.http import parse_retry_after

from .builders import (
    BASE_URL,
    CLIENT_ID,
    DEVICE_ID,
    REFRESH_TOKEN,
    FakeClock,
    config,
    problem,
    token_answer,
)

REFRESH_URL = f"{BASE_URL}/auth/refresh"


class Rotations:
    """Records on_rotate calls, and what the manager had handed out at that moment."""

    def __init__(self) -> None:
        self.saved: list[str] = []

    def __call__(self, grant: TokenGrant) -> None:
        self.saved.append(grant.refresh_token)


def _manager(
    rotations: Any = None, clock: FakeClock | None = None, **kwargs: Any
) -> tuple[TokenManager, Rotations, FakeClock]:
    rot = rotations or Rotations()
    clk = clock or FakeClock()
    cfg = config()
    http = requestor_for(cfg, session=requests.Session(), clock=clk, sleep=clk.sleep)
    return TokenManager(cfg, http, rot, clock=clk, **kwargs), rot, clk


def _sent_refresh_tokens(calls: Any) -> list[str]:
    return [
        orjson.loads(call.request.body)["refresh_token"] for call in calls if call.request.url == REFRESH_URL
    ]


@responses.activate
def test_given_no_token_when_access_token_then_refreshes_with_device_and_client() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))
    manager, rotations, _ = _manager()
    assert manager.access_token() == "at_1"
    request = responses.calls[0].request
    assert orjson.loads(request.body or b"") == {
        "refresh_token": REFRESH_TOKEN,
        "client_id": "acme-analytics",
        "device_id": DEVICE_ID,
    }
    assert request.headers["X-Device-Id"] == DEVICE_ID
    assert rotations.saved == ["rt_1"]


@responses.activate
def test_given_valid_token_when_asked_again_then_no_second_refresh() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))
    manager, _, clock = _manager()
    manager.access_token()
    clock.advance(1800 - 121)
    assert manager.access_token() == "at_1"
    assert len(responses.calls) == 1


@responses.activate
def test_given_token_within_refresh_margin_when_asked_then_refreshes_ahead_of_expiry() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))
    responses.post(REFRESH_URL, json=token_answer(2))
    manager, rotations, clock = _manager()
    manager.access_token()
    clock.advance(1800 - 119)
    assert manager.access_token() == "at_2"
    assert _sent_refresh_tokens(responses.calls) == [REFRESH_TOKEN, "rt_1"]
    assert rotations.saved == ["rt_1", "rt_2"]


@responses.activate
def test_given_401_with_current_token_when_handled_then_refreshes_exactly_once() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))
    responses.post(REFRESH_URL, json=token_answer(2))
    manager, _, _ = _manager()
    first = manager.access_token()
    assert manager.handle_unauthorized(first) == "at_2"
    assert manager.handle_unauthorized(first) == "at_2"
    assert len(responses.calls) == 2


@responses.activate
def test_given_rotation_when_refreshing_then_on_rotate_runs_before_the_token_is_handed_out() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))
    seen: list[tuple[str, int]] = []
    manager_box: list[TokenManager] = []

    def on_rotate(grant: TokenGrant) -> None:
        seen.append((grant.refresh_token, manager_box[0].refresh_count))

    manager, _, _ = _manager(rotations=on_rotate)
    manager_box.append(manager)
    assert manager.access_token() == "at_1"
    assert seen == [("rt_1", 0)]


@responses.activate
def test_given_on_rotate_fails_when_refreshing_then_stops_and_never_uses_or_resends() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))

    def broken_store(grant: TokenGrant) -> None:
        raise OSError("disk full")

    manager, _, _ = _manager(rotations=broken_store)
    with pytest.raises(TrastpayError, match="Saving the rotated refresh token failed") as caught:
        manager.access_token()
    assert "rt_1" not in str(caught.value)
    with pytest.raises(TrastpayError):
        manager.access_token()
    assert len(responses.calls) == 1


@responses.activate
def test_given_eight_threads_when_token_needed_then_one_refresh_shared_by_all() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))
    manager, _, _ = _manager()
    barrier = threading.Barrier(8)
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait(timeout=5)
        token = manager.access_token()
        with lock:
            results.append(token)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == ["at_1"] * 8
    assert len(responses.calls) == 1


@responses.activate
def test_given_eight_threads_hit_401_when_handled_then_one_refresh() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))
    responses.post(REFRESH_URL, json=token_answer(2))
    manager, _, _ = _manager()
    stale = manager.access_token()
    threads = [threading.Thread(target=manager.handle_unauthorized, args=(stale,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(responses.calls) == 2
    assert manager.access_token() == "at_2"


@responses.activate
def test_given_lost_refresh_answer_when_retried_then_same_token_resent_once_and_grace_answer_used() -> None:
    responses.post(REFRESH_URL, body=requests.ConnectionError("connection reset"))
    responses.post(REFRESH_URL, json=token_answer(1))
    manager, rotations, _ = _manager()
    with pytest.raises(ConnectionFailed, match="lost"):
        manager.access_token()
    assert manager.access_token() == "at_1"
    assert _sent_refresh_tokens(responses.calls) == [REFRESH_TOKEN, REFRESH_TOKEN]
    assert rotations.saved == ["rt_1"]


@responses.activate
def test_given_refresh_answer_lost_twice_when_retried_then_reauth_required_and_never_a_third_send() -> None:
    responses.post(REFRESH_URL, body=requests.ReadTimeout("read timed out"))
    responses.post(REFRESH_URL, body=requests.ConnectionError("connection reset"))
    responses.post(REFRESH_URL, json=token_answer(1))
    manager, _, _ = _manager()
    with pytest.raises(ConnectionFailed):
        manager.access_token()
    with pytest.raises(ReauthRequired, match="trastpay auth login") as caught:
        manager.access_token()
    assert DEVICE_ID in str(caught.value)
    with pytest.raises(ReauthRequired):
        manager.access_token()
    assert _sent_refresh_tokens(responses.calls) == [REFRESH_TOKEN, REFRESH_TOKEN]


@responses.activate
def test_given_strict_server_revokes_on_resend_when_refreshing_then_reauth_required() -> None:
    responses.post(REFRESH_URL, body=requests.ConnectionError("connection reset"))
    responses.post(REFRESH_URL, status=401, json=problem(401, "refresh-token-reused"))
    manager, _, _ = _manager()
    with pytest.raises(ConnectionFailed):
        manager.access_token()
    with pytest.raises(ReauthRequired, match=r"[Ll]og in again") as caught:
        manager.access_token()
    assert caught.value.failure_type == "config_error"
    assert caught.value.problem_type == "refresh-token-reused"


@responses.activate
def test_given_connect_failure_when_refreshing_then_token_not_spent_and_retry_is_not_a_reuse() -> None:
    responses.post(REFRESH_URL, body=requests.ConnectTimeout("connect timed out"))
    responses.post(REFRESH_URL, body=requests.ConnectTimeout("connect timed out"))
    responses.post(REFRESH_URL, body=requests.ConnectTimeout("connect timed out"))
    responses.post(REFRESH_URL, json=token_answer(1))
    manager, _, _ = _manager()
    for _ in range(3):
        with pytest.raises(ConnectionFailed, match="base_url"):
            manager.access_token()
    assert manager.access_token() == "at_1"


@responses.activate
def test_given_device_mismatch_when_refreshing_then_auth_error_names_device_id() -> None:
    responses.post(REFRESH_URL, status=401, json=problem(401, "device-mismatch"))
    manager, _, _ = _manager()
    with pytest.raises(AuthError, match="device_id") as caught:
        manager.access_token()
    assert not isinstance(caught.value, ReauthRequired)


@pytest.mark.parametrize("slug", ["unauthorized", "token-expired", "refresh-token-reused"])
@responses.activate
def test_given_refused_refresh_token_when_refreshing_then_reauth_required_without_token(slug: str) -> None:
    responses.post(REFRESH_URL, status=401, json=problem(401, slug))
    manager, _, _ = _manager()
    with pytest.raises(ReauthRequired) as caught:
        manager.access_token()
    assert REFRESH_TOKEN not in str(caught.value)


@responses.activate
def test_given_server_error_on_refresh_when_retried_then_token_not_considered_spent() -> None:
    responses.post(REFRESH_URL, status=503, json=problem(503, "unavailable"))
    responses.post(REFRESH_URL, json=token_answer(1))
    manager, _, _ = _manager()
    with pytest.raises(ServerError):
        manager.access_token()
    assert manager.access_token() == "at_1"


@responses.activate
def test_given_truncated_refresh_answer_when_refreshing_then_treated_as_lost_and_resent_once() -> None:
    responses.post(REFRESH_URL, body=b'{"access_token": "at_1", "refre', content_type="application/json")
    responses.post(REFRESH_URL, json=token_answer(1))
    manager, _, _ = _manager()
    with pytest.raises(ConnectionFailed):
        manager.access_token()
    assert manager.access_token() == "at_1"


@responses.activate
def test_given_other_process_rotated_when_refreshing_then_reloaded_token_used_under_lock() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))
    events: list[str] = []

    class Lock:
        def __enter__(self) -> None:
            events.append("lock")

        def __exit__(self, *exc: object) -> None:
            events.append("unlock")

    def reload() -> str:
        events.append("reload")
        return "rt_from_other_process"

    manager, _, _ = _manager(lock_factory=Lock, reload=reload)
    manager.access_token()
    assert events == ["lock", "reload", "unlock"]
    assert _sent_refresh_tokens(responses.calls) == ["rt_from_other_process"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0", 0.0), ("garbage", None), (None, None), ("Sat, 28 Nov 2026 00:00:30 GMT", 30.0)],
)
def test_given_retry_after_header_when_parsed_then_seconds_to_wait(
    header: str | None, expected: float | None
) -> None:
    now = 1795824000.0  # 2026-11-28T00:00:00Z
    assert parse_retry_after(header, now=now) == expected


# --- an access token from the config, check without rotation, introspection -----------------------

INTROSPECT_URL = f"{BASE_URL}/auth/introspect"
WALL_NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _seeded(expires_in_s: float, rotations: Rotations | None = None) -> tuple[TokenManager, Rotations]:
    rot = rotations or Rotations()
    clk = FakeClock()
    cfg = config(
        access_token="at_from_config",
        token_expiry_date=format_expiry(WALL_NOW + timedelta(seconds=expires_in_s)),
    )
    http = requestor_for(cfg, session=requests.Session(), clock=clk, sleep=clk.sleep)
    return TokenManager(cfg, http, rot, clock=clk, wall_clock=lambda: WALL_NOW), rot


@responses.activate
def test_given_a_valid_access_token_in_the_config_when_asked_then_it_is_used_and_nothing_rotates() -> None:
    manager, rotations = _seeded(1200)

    assert manager.access_token() == "at_from_config"
    assert manager.has_valid_access()
    assert rotations.saved == []
    assert len(responses.calls) == 0


@responses.activate
def test_given_an_access_token_within_the_margin_when_asked_then_refreshed_and_the_grant_saved_first() -> (
    None
):
    responses.post(REFRESH_URL, json=token_answer(1, expires_in=1800))
    grants: list[TokenGrant] = []
    manager, _ = _seeded(60, rotations=None)
    manager._on_rotate = grants.append

    assert manager.access_token() == "at_1"
    assert [(g.refresh_token, g.access_token) for g in grants] == [("rt_1", "at_1")]
    assert grants[0].config_fields()["token_expiry_date"].endswith("Z")


@responses.activate
def test_given_rotation_held_when_a_refresh_is_needed_then_rotation_held_and_nothing_sent() -> None:
    manager, rotations = _seeded(60)

    with manager.hold_rotation(), pytest.raises(RotationHeld):
        manager.access_token()
    assert len(responses.calls) == 0
    assert rotations.saved == []


@responses.activate
@pytest.mark.parametrize(
    ("answer", "error", "text"),
    [
        ({"active": False, "reason": "spent"}, ReauthRequired, "(spent)"),
        ({"active": False, "reason": "device-mismatch"}, AuthError, "device-mismatch"),
    ],
)
def test_given_an_inactive_refresh_token_when_introspected_then_a_clear_error_and_nothing_spent(
    answer: dict[str, Any], error: type[TrastpayError], text: str
) -> None:
    responses.post(INTROSPECT_URL, json=answer)
    manager, rotations = _seeded(60)

    with pytest.raises(error, match=text.replace("(", r"\(").replace(")", r"\)")):
        manager.introspect()
    body = orjson.loads(responses.calls[0].request.body or b"")
    assert body == {"token": REFRESH_TOKEN, "client_id": CLIENT_ID, "device_id": DEVICE_ID}
    assert rotations.saved == []
