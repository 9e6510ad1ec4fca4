"""Audit lines: one per call, identifying the request by hash, never carrying secrets or card numbers."""

from __future__ import annotations

import logging

import orjson
import pytest

from trastpay.audit import audit_call, request_hash


def test_given_same_request_in_any_key_order_when_hashing_then_same_16_hex() -> None:
    first = request_hash("GET", "/transfers", {"since": "a", "page_size": 10}, None)
    second = request_hash("get", "/transfers", {"page_size": 10, "since": "a"}, None)
    assert first == second
    assert len(first) == 16
    assert int(first, 16) >= 0
    assert first != request_hash("GET", "/transfers", {"since": "b", "page_size": 10}, None)


def test_given_refresh_bodies_when_hashing_then_secret_values_do_not_enter_the_hash() -> None:
    body_a = {"refresh_token": "rt_a", "client_id": "c", "device_id": "d"}
    body_b = {"refresh_token": "rt_b", "client_id": "c", "device_id": "d"}
    assert request_hash("POST", "/auth/refresh", None, body_a) == request_hash(
        "POST", "/auth/refresh", None, body_b
    )


def test_given_call_when_audited_then_one_json_line_with_names_not_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="trastpay.audit"):
        audit_call(
            method="POST",
            path="/statement",
            body={"card_token": "crd_A1", "from": "2026-01-01", "refresh_token": "rt_SECRET"},
            status=200,
            duration_ms=12.345,
            attempt=1,
            consent_id="cns_7",
        )
    (record,) = [r for r in caplog.records if r.name == "trastpay.audit"]
    line = orjson.loads(record.getMessage())
    assert line["method"] == "POST"
    assert line["path"] == "/statement"
    assert line["body_keys"] == ["card_token", "from", "refresh_token"]
    assert line["status"] == 200
    assert line["duration_ms"] == 12.3
    assert line["consent_id"] == "cns_7"
    assert "rt_SECRET" not in caplog.text
    assert "crd_A1" not in caplog.text


def test_given_pan_in_path_when_audited_then_masked(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="trastpay.audit"):
        audit_call(
            method="GET",
            path="/cards/8600301234566312",
            status=404,
            duration_ms=1,
            attempt=1,
            consent_id=None,
        )
    assert "8600301234566312" not in caplog.text
    assert "860030******6312" in caplog.text
