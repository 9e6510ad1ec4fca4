"""`POST /auth/introspect` proves a refresh token without spending it; `GET /_sandbox/tokens` counts reuse."""

from __future__ import annotations

from typing import Any

API = "/api/v1/trastpay"


def _introspect(caller: Any, token: str | None = None, **overrides: Any) -> dict[str, Any]:
    body = {
        "token": token or caller.tokens["refresh_token"],
        "client_id": caller.client_id,
        "device_id": caller.device_id,
        **overrides,
    }
    response = caller.client.post(API + "/auth/introspect", json=body)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    answer: dict[str, Any] = response.json()
    return answer


def test_given_a_live_refresh_token_when_introspected_twice_then_active_and_still_spendable(
    caller: Any,
) -> None:
    first = _introspect(caller)
    second = _introspect(caller)

    assert first["active"] is True
    assert second["active"] is True
    assert first["device_id"] == caller.device_id
    assert caller.refresh().status_code == 200


def test_given_a_spent_refresh_token_when_introspected_then_inactive_spent_and_the_family_survives(
    caller: Any,
) -> None:
    spent = caller.tokens["refresh_token"]
    successor = caller.refresh().json()["refresh_token"]

    assert _introspect(caller, spent) == {"active": False, "reason": "spent"}
    assert caller.client.get("/_sandbox/tokens").json()["spent_presented"] == 0
    assert caller.refresh(successor).status_code == 200


def test_given_another_device_or_client_when_introspecting_then_inactive_without_details(caller: Any) -> None:
    assert _introspect(caller, device_id="dev-other") == {"active": False, "reason": "device-mismatch"}
    assert _introspect(caller, client_id="someone-else") == {"active": False, "reason": "unknown"}
    assert _introspect(caller, "no-such-token") == {"active": False, "reason": "unknown"}


def test_given_a_spent_token_presented_to_refresh_when_counting_then_spent_presented_and_revoked(
    caller: Any,
) -> None:
    spent = caller.tokens["refresh_token"]
    successor = caller.refresh().json()["refresh_token"]

    assert caller.refresh(spent).status_code == 401
    counters = caller.client.get("/_sandbox/tokens").json()

    assert counters["spent_presented"] == 1
    assert counters["refreshes"] == 1
    assert counters["revoked_families"] == 1
    assert _introspect(caller, successor) == {"active": False, "reason": "revoked"}


def test_given_a_missing_field_when_introspecting_then_400_names_it(caller: Any) -> None:
    response = caller.client.post(API + "/auth/introspect", json={"token": "x", "client_id": "c"})

    assert response.status_code == 400
    assert "device_id" in response.text
