"""Every fault switch: validation, effect on data routes, counters, and what it leaves alone."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from trastpay_sandbox.faults import Faults
from trastpay_sandbox.middleware import InjectedConnectionReset
from trastpay_sandbox.options import SandboxOptions
from trastpay_sandbox.switches import SWITCHES, FaultConfigError, fault_schemas, validate_faults


def _set(caller: Any, faults: dict[str, Any]) -> None:
    response = caller.client.post("/_sandbox/faults", json=faults)
    assert response.status_code == 200, response.text


def _counters(caller: Any) -> dict[str, int]:
    counters: dict[str, int] = caller.client.get("/_sandbox/faults").json()["counters"]
    return counters


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"latency": 5}, "faults.latency"),
        ({"latency_ms": -1}, "faults.latency_ms"),
        ({"rate_limit_storm": {"retry_after_s": 2}}, "faults.rate_limit_storm.duration_s"),
        ({"error_rate": {"ratio": 1.5}}, "faults.error_rate.ratio"),
        ({"error_rate": {"ratio": 0.5, "status": 404}}, "faults.error_rate.status"),
        ({"connection_reset": {"ratio": 0.5, "every_n": 2}}, "faults.connection_reset"),
        ({"slow_response": {"every_n": 2}}, "faults.slow_response.delay_s"),
        ({"malformed_page": {"every_n": 0}}, "faults.malformed_page.every_n"),
        ({"expire_token_after_pages": True}, "faults.expire_token_after_pages"),
        ({"per_token_rps": 0}, "faults.per_token_rps"),
    ],
)
def test_given_invalid_fault_config_when_validated_then_error_names_key(
    config: dict[str, Any], field: str
) -> None:
    with pytest.raises(FaultConfigError) as caught:
        validate_faults(config)

    assert caught.value.field == field


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"error_rate": {"ratio": float("nan")}}, "faults.error_rate.ratio"),
        ({"per_token_rps": float("inf")}, "faults.per_token_rps"),
        ({"latency_ms": 5.0}, "faults.latency_ms"),
        ({"slow_response": {"every_n": 2, "delay_s": 1, "bogus": 1}}, "faults.slow_response.bogus"),
        ({"malformed_page": {}}, "faults.malformed_page"),
        ({"schema_drift": {"stream": "transfers", "add_field": ""}}, "faults.schema_drift.add_field"),
    ],
)
def test_given_a_value_the_contract_forbids_when_validated_then_error_names_it(
    config: dict[str, Any], field: str
) -> None:
    with pytest.raises(FaultConfigError) as caught:
        validate_faults(config)

    assert caught.value.field == field


def test_given_the_switch_registry_when_compared_with_the_contract_then_each_switch_is_in_both() -> None:
    declared = set(fault_schemas()["FaultConfig"]["properties"])

    assert declared == set(SWITCHES)
    assert {switch.layer for switch in SWITCHES.values()} == {"transport", "hostile", "session"}


def test_given_fresh_faults_when_reading_the_counters_then_every_switch_has_one_at_zero() -> None:
    assert Faults().snapshot()["counters"] == dict.fromkeys(SWITCHES, 0)


def test_given_unknown_fault_key_when_posted_then_400_names_it(caller: Any, problem_of: Any) -> None:
    response = caller.client.post("/_sandbox/faults", json={"chaos_monkey": True})

    assert response.status_code == 400
    assert problem_of(response)["field"] == "faults.chaos_monkey"


def test_given_faults_off_by_default_when_reading_then_nothing_injected(caller: Any) -> None:
    state = caller.client.get("/_sandbox/faults").json()

    assert state["faults"] == {}
    assert caller.get("/cards").status_code == 200


def test_given_latency_when_reading_then_response_is_delayed(caller: Any) -> None:
    _set(caller, {"latency_ms": 150})

    started = time.monotonic()
    assert caller.get("/cards").status_code == 200

    assert time.monotonic() - started >= 0.15
    assert _counters(caller)["latency_ms"] == 1


def test_given_rate_limit_storm_when_reading_then_429_with_retry_after(caller: Any, slug_of: Any) -> None:
    _set(caller, {"rate_limit_storm": {"duration_s": 30, "retry_after_s": 7}})

    responses = [caller.get("/cards") for _ in range(3)]

    assert all(r.status_code == 429 for r in responses)
    assert responses[0].headers["retry-after"] == "7"
    assert slug_of(responses[0]) == "rate-limited"
    assert _counters(caller)["rate_limit_storm"] == 3


def test_given_storm_set_before_client_starts_when_first_call_later_then_still_limited(caller: Any) -> None:
    _set(caller, {"rate_limit_storm": {"duration_s": 0.3, "retry_after_s": 1}})
    time.sleep(0.4)

    assert caller.get("/cards").status_code == 429


def test_given_rate_limit_storm_when_window_over_then_served_again(caller: Any) -> None:
    _set(caller, {"rate_limit_storm": {"duration_s": 0.2, "retry_after_s": 1}})
    assert caller.get("/cards").status_code == 429
    deadline = time.monotonic() + 5
    while caller.get("/cards").status_code == 429:
        assert time.monotonic() < deadline, "storm window never closed"
        time.sleep(0.05)


@pytest.mark.parametrize(("status", "slug"), [(503, "unavailable"), (500, "internal"), (502, "internal")])
def test_given_error_rate_one_when_reading_then_every_call_is_5xx(
    caller: Any, slug_of: Any, status: int, slug: str
) -> None:
    _set(caller, {"error_rate": {"ratio": 1, "status": status}})

    response = caller.get("/transfers")

    assert response.status_code == status
    assert slug_of(response) == slug
    assert _counters(caller)["error_rate"] == 1


def test_given_error_rate_ratio_when_reading_then_seeded_share_fails_repeatably() -> None:
    def pattern() -> list[bool]:
        faults = Faults({"error_rate": {"ratio": 0.3}}, seed=7)
        return [faults.decide("t").status is not None for _ in range(200)]

    first, second = pattern(), pattern()

    assert first == second
    assert 30 <= sum(first) <= 90


def test_given_connection_reset_every_second_when_reading_then_every_second_call_breaks(caller: Any) -> None:
    _set(caller, {"connection_reset": {"every_n": 2}})

    assert caller.get("/cards").status_code == 200
    with pytest.raises(InjectedConnectionReset):
        caller.get("/cards")
    assert caller.get("/cards").status_code == 200
    assert _counters(caller)["connection_reset"] == 1


def test_given_slow_response_when_reading_then_delay_applies_to_selected_calls(caller: Any) -> None:
    _set(caller, {"slow_response": {"delay_s": 0.3, "every_n": 2}})

    started = time.monotonic()
    caller.get("/cards")
    fast = time.monotonic() - started
    started = time.monotonic()
    caller.get("/cards")
    slow = time.monotonic() - started

    assert slow >= 0.3 > fast
    assert _counters(caller)["slow_response"] == 1


def test_given_malformed_next_page_when_reading_then_json_is_truncated_once(caller: Any) -> None:
    _set(caller, {"malformed_page": {"next_n": 1}})

    broken = caller.get("/events", page_size=5)
    healthy = caller.get("/events", page_size=5)

    assert broken.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(broken.content)
    assert int(broken.headers["content-length"]) == len(broken.content)
    assert len(healthy.json()["items"]) == 5
    assert _counters(caller)["malformed_page"] == 1


def test_given_malformed_every_third_when_reading_then_third_page_broken(caller: Any) -> None:
    _set(caller, {"malformed_page": {"every_n": 3}})

    bodies = [caller.get("/events", page_size=2).content for _ in range(3)]

    orjson.loads(bodies[0])
    orjson.loads(bodies[1])
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(bodies[2])


def test_given_expire_after_two_pages_when_paginating_then_token_dies_mid_way(
    caller: Any, slug_of: Any
) -> None:
    _set(caller, {"expire_token_after_pages": 2})

    first = caller.get("/events", page_size=2)
    second = caller.get("/events", page_size=2, page_token=first.json()["next_page"])
    third = caller.get("/events", page_size=2, page_token=second.json()["next_page"])

    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 401)
    assert slug_of(third) == "token-expired"
    assert _counters(caller)["expire_token_after_pages"] == 1
    caller.tokens = caller.refresh().json()
    assert caller.get("/events", page_size=2, page_token=second.json()["next_page"]).status_code == 200


def test_given_per_token_rps_when_burst_then_429_with_retry_after(caller: Any) -> None:
    _set(caller, {"per_token_rps": 1})

    first, second = caller.get("/cards"), caller.get("/cards")

    assert first.status_code == 200
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) >= 1
    assert _counters(caller)["per_token_rps"] == 1


def test_given_per_token_rps_when_two_tokens_then_each_has_its_own_budget(make_caller: Any) -> None:
    first = make_caller(SandboxOptions(rate_limit_per_token=1))
    second = make_caller(client=first.client, customer_index=1)

    assert first.get("/cards").status_code == 200
    assert second.get("/cards").status_code == 200
    assert first.get("/cards").status_code == 429


def test_given_rate_limit_option_when_started_then_per_token_fault_is_on(make_caller: Any) -> None:
    caller = make_caller(SandboxOptions(rate_limit_per_token=2.5))

    assert caller.client.get("/_sandbox/faults").json()["faults"] == {"per_token_rps": 2.5}


def test_given_faults_on_when_calling_hooks_and_auth_then_unaffected(caller: Any) -> None:
    _set(caller, {"error_rate": {"ratio": 1}, "rate_limit_storm": {"duration_s": 60}})

    assert caller.client.get("/_sandbox/customers").status_code == 200
    assert caller.client.get("/_sandbox/clock").status_code == 200
    assert caller.refresh().status_code == 200
    assert caller.client.get("/openapi.json").status_code == 200


def test_given_faults_cleared_when_reading_then_served_and_counters_kept(caller: Any) -> None:
    _set(caller, {"error_rate": {"ratio": 1}})
    assert caller.get("/cards").status_code == 503

    cleared = caller.client.delete("/_sandbox/faults").json()

    assert cleared["faults"] == {}
    assert cleared["counters"]["error_rate"] == 1
    assert caller.get("/cards").status_code == 200
