"""OTP login, token rotation and revocation, device binding and scopes of the sandbox API."""

from __future__ import annotations

from typing import Any

import pytest

from trastpay_sandbox.options import SandboxOptions

API = "/api/v1/trastpay"


def _request_otp(client: Any, phone: str) -> str:
    assert client.post(API + "/auth/otp", json={"phone": phone}).status_code == 202
    return str(client.get("/_sandbox/otp", params={"phone": phone}).json()["otp"])


def _login_body(phone: str, otp: str, **extra: Any) -> dict[str, Any]:
    return {"phone": phone, "otp": otp, "device_id": "dev-test", "client_id": "trastpay-connectors", **extra}


def _wrong(otp: str) -> str:
    return f"{(int(otp) + 1) % 1_000_000:06d}"


def test_given_valid_otp_when_logging_in_then_answers_bearer_pair_with_all_scopes(client: Any) -> None:
    phone = client.get("/_sandbox/customers").json()[0]["phone"]
    otp = _request_otp(client, phone)

    response = client.post(API + "/auth/login", json=_login_body(phone, otp))

    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 1800
    assert len(tokens["scopes"]) == 11
    assert tokens["access_token"] != tokens["refresh_token"]
    assert response.headers["cache-control"] == "no-store"


def test_given_malformed_phone_when_requesting_otp_then_400_names_phone(client: Any, problem_of: Any) -> None:
    response = client.post(API + "/auth/otp", json={"phone": "+7 900 123"})

    assert response.status_code == 400
    assert problem_of(response)["field"] == "phone"


def test_given_unknown_phone_when_requesting_otp_then_202_without_code(client: Any) -> None:
    response = client.post(API + "/auth/otp", json={"phone": "+998000000000"})

    assert response.status_code == 202
    assert client.get("/_sandbox/otp", params={"phone": "+998000000000"}).status_code == 404


def test_given_otp_used_once_when_reused_then_invalid_otp(client: Any, slug_of: Any) -> None:
    phone = client.get("/_sandbox/customers").json()[0]["phone"]
    otp = _request_otp(client, phone)
    assert client.post(API + "/auth/login", json=_login_body(phone, otp)).status_code == 200

    again = client.post(API + "/auth/login", json=_login_body(phone, otp))

    assert again.status_code == 401
    assert slug_of(again) == "invalid-otp"


def test_given_five_wrong_tries_when_right_code_sent_then_otp_is_locked(client: Any, slug_of: Any) -> None:
    phone = client.get("/_sandbox/customers").json()[0]["phone"]
    otp = _request_otp(client, phone)
    for _ in range(5):
        wrong = client.post(API + "/auth/login", json=_login_body(phone, _wrong(otp)))
        assert wrong.status_code == 401
        assert slug_of(wrong) == "invalid-otp"

    response = client.post(API + "/auth/login", json=_login_body(phone, otp))

    assert response.status_code == 401
    assert "too many" in response.json()["detail"]


def test_given_otp_older_than_300s_when_logging_in_then_expired(client: Any, slug_of: Any) -> None:
    phone = client.get("/_sandbox/customers").json()[0]["phone"]
    otp = _request_otp(client, phone)
    assert client.post("/_sandbox/clock", json={"advance": "PT301S"}).status_code == 200

    response = client.post(API + "/auth/login", json=_login_body(phone, otp))

    assert response.status_code == 401
    assert slug_of(response) == "invalid-otp"
    assert "expired" in response.json()["detail"]


def test_given_unknown_scope_when_logging_in_then_400_names_scopes(client: Any, problem_of: Any) -> None:
    phone = client.get("/_sandbox/customers").json()[0]["phone"]
    otp = _request_otp(client, phone)

    response = client.post(API + "/auth/login", json=_login_body(phone, otp, scopes=["cards:write"]))

    assert response.status_code == 400
    assert problem_of(response)["field"] == "scopes"


def test_given_missing_body_field_when_logging_in_then_400_names_it(client: Any, problem_of: Any) -> None:
    response = client.post(API + "/auth/login", json={"phone": "+998901234567", "otp": "123456"})

    assert response.status_code == 400
    assert problem_of(response)["field"] == "device_id"


def test_given_refresh_token_when_refreshing_then_new_pair_and_old_access_still_works(caller: Any) -> None:
    response = caller.refresh()

    assert response.status_code == 200
    rotated = response.json()
    assert rotated["refresh_token"] != caller.tokens["refresh_token"]
    assert rotated["access_token"] != caller.tokens["access_token"]
    assert caller.get("/cards").status_code == 200


def test_given_spent_refresh_token_when_reused_then_family_is_revoked(caller: Any, slug_of: Any) -> None:
    first = caller.refresh().json()

    reused = caller.refresh()

    assert reused.status_code == 401
    assert slug_of(reused) == "refresh-token-reused"
    successor = caller.refresh(first["refresh_token"])
    assert successor.status_code == 401
    assert slug_of(successor) == "refresh-token-reused"
    caller.tokens = first
    assert caller.get("/cards").status_code == 401


def test_given_grace_mode_when_previous_token_reused_within_60s_then_same_successor(
    make_caller: Any,
) -> None:
    caller = make_caller(SandboxOptions(refresh_grace=True))
    first = caller.refresh().json()

    again = caller.refresh()

    assert again.status_code == 200
    assert again.json() == first


def test_given_grace_mode_when_successor_already_used_then_reuse_revokes(
    make_caller: Any, slug_of: Any
) -> None:
    caller = make_caller(SandboxOptions(refresh_grace=True))
    first = caller.refresh().json()
    assert caller.refresh(first["refresh_token"]).status_code == 200

    reused = caller.refresh()

    assert reused.status_code == 401
    assert slug_of(reused) == "refresh-token-reused"


def test_given_grace_mode_when_reused_after_60s_then_revokes(make_caller: Any, slug_of: Any) -> None:
    caller = make_caller(SandboxOptions(refresh_grace=True))
    assert caller.refresh().status_code == 200
    caller.client.post("/_sandbox/clock", json={"advance": "PT61S"})

    reused = caller.refresh()

    assert slug_of(reused) == "refresh-token-reused"


def test_given_other_device_when_refreshing_then_device_mismatch(caller: Any, slug_of: Any) -> None:
    response = caller.refresh(device_id="another-phone")

    assert response.status_code == 401
    assert slug_of(response) == "device-mismatch"


def test_given_other_device_header_when_reading_then_device_mismatch(caller: Any, slug_of: Any) -> None:
    response = caller.client.get(API + "/cards", headers={**caller.headers, "X-Device-Id": "stolen"})

    assert response.status_code == 401
    assert slug_of(response) == "device-mismatch"


@pytest.mark.parametrize("authorization", [None, "Basic abc", "Bearer ", "Bearer not-a-token"])
def test_given_bad_authorization_when_reading_then_401_unauthorized(
    caller: Any, slug_of: Any, authorization: str | None
) -> None:
    headers = {"X-Device-Id": caller.device_id}
    if authorization is not None:
        headers["Authorization"] = authorization

    response = caller.client.get(API + "/cards", headers=headers)

    assert response.status_code == 401
    assert slug_of(response) == "unauthorized"


def test_given_token_without_scope_when_reading_then_403_insufficient_scope(
    make_caller: Any, slug_of: Any
) -> None:
    caller = make_caller(scopes=["cards:read"])

    assert caller.get("/cards").status_code == 200
    response = caller.get("/transfers")

    assert response.status_code == 403
    assert slug_of(response) == "insufficient-scope"


def test_given_clock_advanced_past_ttl_when_reading_then_token_expired(caller: Any, slug_of: Any) -> None:
    caller.client.post("/_sandbox/clock", json={"advance": "PT31M"})

    response = caller.get("/cards")

    assert response.status_code == 401
    assert slug_of(response) == "token-expired"
    assert caller.refresh().status_code == 200


def test_given_short_access_ttl_option_when_logging_in_then_expires_in_follows(make_caller: Any) -> None:
    caller = make_caller(SandboxOptions(access_token_ttl_s=60))

    assert caller.tokens["expires_in"] == 60


def test_given_expire_hook_when_reading_then_token_expired_and_refresh_recovers(
    caller: Any, slug_of: Any
) -> None:
    assert caller.client.post("/_sandbox/tokens/expire").json()["expired"] >= 1

    assert slug_of(caller.get("/cards")) == "token-expired"
    caller.tokens = caller.refresh().json()
    assert caller.get("/cards").status_code == 200


def test_given_refresh_ttl_elapsed_when_refreshing_then_token_expired(make_caller: Any, slug_of: Any) -> None:
    caller = make_caller(SandboxOptions(refresh_token_ttl_s=3600))
    caller.client.post("/_sandbox/clock", json={"advance": "PT2H"})

    response = caller.refresh()

    assert response.status_code == 401
    assert slug_of(response) == "token-expired"


def test_given_tokens_when_answering_then_no_token_appears_in_later_responses(caller: Any) -> None:
    body = caller.get("/cards").text + caller.client.get("/_sandbox/faults").text

    assert caller.tokens["access_token"] not in body
    assert caller.tokens["refresh_token"] not in body


def test_given_a_stranger_and_a_customer_when_logging_in_with_a_wrong_otp_then_the_answers_are_identical(
    client: Any,
) -> None:
    customer = client.get("/_sandbox/customers").json()[0]["phone"]
    stranger = "+998901234567"
    assert all(c["phone"] != stranger for c in client.get("/_sandbox/customers").json())
    answers = []
    for phone in (customer, stranger):
        assert client.post("/api/v1/trastpay/auth/otp", json={"phone": phone}).status_code == 202
        body = {"phone": phone, "otp": "000000", "device_id": "d", "client_id": "c"}
        response = client.post("/api/v1/trastpay/auth/login", json=body)
        document = response.json()
        document.pop("instance", None)
        answers.append((response.status_code, document))

    assert answers[0] == answers[1]
    assert answers[0][0] == 401


def test_given_other_device_header_when_refreshing_then_device_mismatch_and_nothing_rotates(
    caller: Any, slug_of: Any
) -> None:
    body = {
        "refresh_token": caller.tokens["refresh_token"],
        "client_id": caller.client_id,
        "device_id": "dev-test",
    }

    response = caller.client.post(API + "/auth/refresh", json=body, headers={"X-Device-Id": "stolen"})

    assert response.status_code == 401
    assert slug_of(response) == "device-mismatch"
    assert caller.refresh().status_code == 200, "the token was not spent by the refused attempt"


def test_given_spent_token_replayed_from_another_device_when_refreshing_then_family_is_revoked(
    caller: Any, slug_of: Any
) -> None:
    first = caller.refresh().json()

    replayed = caller.refresh(device_id="another-phone")

    assert replayed.status_code == 401
    assert slug_of(replayed) == "refresh-token-reused"
    successor = caller.refresh(first["refresh_token"])
    assert slug_of(successor) == "refresh-token-reused"


@pytest.mark.parametrize(
    ("origin", "status"), [("https://evil.example", 403), ("null", 403), ("http://127.0.0.1:8765", 200)]
)
def test_given_a_hook_post_from_a_web_page_when_its_origin_is_not_loopback_then_refused(
    client: Any, origin: str, status: int
) -> None:
    phone = client.get("/_sandbox/customers").json()[0]["phone"]
    response = client.post("/_sandbox/clock", json={"advance": "PT1S"}, headers={"Origin": origin})

    assert response.status_code == status
    assert client.get("/_sandbox/otp", params={"phone": phone}, headers={"Origin": origin}).status_code in (
        200,
        404,
    )
