"""Hostile-data switches: validation, what each does to a data answer, and the truth they keep."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from trastpay_sandbox.hostile import (
    HOSTILE_SAMPLES,
    PLANTED_PANS,
    grouped,
    hostile_text,
    luhn_complete,
    rewrite_truth,
)
from trastpay_sandbox.hostile_middleware import stream_of
from trastpay_sandbox.switches import validate_faults


def _set(caller: Any, faults: dict[str, Any]) -> None:
    response = caller.client.post("/_sandbox/faults", json=faults)
    assert response.status_code == 200, response.text


def _transfers(caller: Any, **params: Any) -> Any:
    return caller.get("/transfers", page_size=params.pop("page_size", 3), **params)


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"corrupt_page": {"kind": "xml", "every_n": 1}}, "faults.corrupt_page.kind"),
        ({"corrupt_page": {"kind": "html"}}, "faults.corrupt_page"),
        ({"corrupt_page": {"kind": "html", "every_n": 0}}, "faults.corrupt_page.every_n"),
        ({"schema_drift": {"stream": "transfers"}}, "faults.schema_drift"),
        ({"schema_drift": {"add_field": "x"}}, "faults.schema_drift.stream"),
        ({"hostile_strings": {"pad_kb": -1}}, "faults.hostile_strings.pad_kb"),
        ({"hostile_strings": {"fields": []}}, "faults.hostile_strings.fields"),
        ({"plant_pan": {"in": ["cookies"]}}, "faults.plant_pan.in[0]"),
        ({"plant_pan": {"in": ["url"], "error_status": 418}}, "faults.plant_pan.error_status"),
        ({"huge_page": {"page_size": 5000}}, "faults.huge_page.page_size"),
        ({"record_secrets": "yes"}, "faults.record_secrets"),
    ],
)
def test_given_invalid_hostile_switch_when_posted_then_400_names_the_key(
    caller: Any, problem_of: Any, config: dict[str, Any], field: str
) -> None:
    response = caller.client.post("/_sandbox/faults", json=config)
    assert response.status_code == 400
    assert problem_of(response)["field"] == field


def test_given_valid_hostile_switches_when_validated_then_normalised_with_defaults() -> None:
    out = validate_faults({"hostile_strings": {}, "plant_pan": {"in": ["url", "records", "url"]}})
    assert out["hostile_strings"]["pad_kb"] == 0
    assert "merchant_name" in out["hostile_strings"]["fields"]
    assert out["plant_pan"] == {"in": ["records", "url"], "error_every_n": 2, "error_status": 503}


def test_given_planted_pans_then_every_one_is_a_luhn_valid_card_number_of_13_to_19_digits() -> None:
    assert all(13 <= len(pan) <= 19 and _luhn(pan) for pan in PLANTED_PANS)
    assert {len(pan) for pan in PLANTED_PANS} >= {13, 16, 19}
    assert luhn_complete("7992739871") == "79927398713"


@pytest.mark.parametrize("kind", ["html", "truncated", "nan", "array"])
def test_given_corrupt_page_next_n_when_reading_then_one_broken_200_then_clean_pages(
    caller: Any, kind: str
) -> None:
    _set(caller, {"corrupt_page": {"kind": kind, "next_n": 1}})
    broken = _transfers(caller)
    assert broken.status_code == 200
    if kind == "array":
        assert isinstance(orjson.loads(broken.content), list)
    else:
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(broken.content)
    assert broken.headers["content-length"] == str(len(broken.content))
    assert isinstance(orjson.loads(_transfers(caller).content)["items"], list)
    assert caller.client.get("/_sandbox/faults").json()["counters"]["corrupt_page"] == 1


def test_given_item_array_when_reading_then_the_middle_item_is_a_list(caller: Any) -> None:
    _set(caller, {"corrupt_page": {"kind": "item_array", "every_n": 1}})
    items = _transfers(caller).json()["items"]
    assert [type(item).__name__ for item in items] == ["dict", "list", "dict"]


def test_given_corrupt_page_for_another_stream_when_reading_then_untouched(caller: Any) -> None:
    _set(caller, {"corrupt_page": {"kind": "html", "every_n": 1, "stream": "card_transactions"}})
    assert _transfers(caller).json()["items"]


def test_given_schema_drift_when_reading_then_api_and_truth_agree_on_the_drift(caller: Any) -> None:
    _set(
        caller,
        {
            "schema_drift": {
                "stream": "transfers",
                "add_field": "tier",
                "remove_field": "receiver_bank",
                "change_type": "amount_minor",
            }
        },
    )
    item = _transfers(caller, page_size=1).json()["items"][0]
    truth = [
        orjson.loads(line)
        for line in caller.client.get(
            "/_sandbox/truth/transfers", params={"phone": caller.phone}
        ).content.splitlines()
    ]
    assert item == next(t for t in truth if t["id"] == item["id"])
    assert item["tier"] == f"added:{item['id']}"
    assert "receiver_bank" not in item
    assert isinstance(item["amount_minor"], float)


def test_given_hostile_strings_when_reading_then_text_fields_carry_every_sample_and_truth_matches(
    caller: Any,
) -> None:
    _set(
        caller,
        {
            "hostile_strings": {
                "streams": ["transfers"],
                "fields": ["failure_reason", "receiver_name"],
                "pad_kb": 1,
            }
        },
    )
    items = _transfers(caller).json()["items"]
    truth = {
        t["id"]: t
        for t in (
            orjson.loads(line)
            for line in caller.client.get(
                "/_sandbox/truth/transfers", params={"phone": caller.phone}
            ).content.splitlines()
        )
    }
    for item in items:
        assert all(sample in item["receiver_name"] for sample in HOSTILE_SAMPLES)
        assert len(item["failure_reason"].encode("utf-8")) >= 1024
        assert item == truth[item["id"]]


def test_given_hostile_strings_off_when_rewriting_truth_then_records_are_untouched() -> None:
    record = {"id": "t1", "merchant_name": "Makro"}
    assert next(iter(rewrite_truth({}, "card_transactions", [record]))) is record
    assert hostile_text("Makro", "t1").startswith("Makro | ")


def test_given_plant_pan_records_and_url_when_reading_then_pans_in_fields_and_page_token_still_works(
    caller: Any,
) -> None:
    _set(caller, {"plant_pan": {"in": ["records", "url", "headers"]}})
    first = _transfers(caller, page_size=2)
    page = first.json()
    assert page["items"][0]["card_number"] in PLANTED_PANS
    assert grouped(PLANTED_PANS[0], " ") in page["items"][0]["pan_meta"]["note"]
    assert page["next_page"].split("~")[0] in PLANTED_PANS
    assert first.headers["x-debug-card"] == PLANTED_PANS[0]
    second = _transfers(caller, page_size=2, page_token=page["next_page"])
    assert second.status_code == 200
    assert second.json()["items"][0]["id"] != page["items"][0]["id"]


def test_given_plant_pan_error_body_when_reading_then_every_nth_answer_is_a_problem_with_a_pan(
    caller: Any,
) -> None:
    _set(caller, {"plant_pan": {"in": ["error_body"], "error_every_n": 2, "error_status": 400}})
    statuses = [_transfers(caller).status_code for _ in range(4)]
    assert statuses == [200, 400, 200, 400]
    body = _transfers(caller).content + _transfers(caller).content
    assert PLANTED_PANS[0].encode() in body


def test_given_huge_page_when_asking_for_two_items_then_the_server_sends_its_own_page_size(
    caller: Any,
) -> None:
    card = caller.get("/cards").json()["items"][0]["card_token"]
    _set(caller, {"huge_page": {"page_size": 7}})
    assert len(_transfers(caller, page_size=2).json()["items"]) == min(
        7, len(_transfers(caller, page_size=1000).json()["items"])
    )
    statement = caller.statement(
        card_token=card, **{"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}, page_size=2
    )
    assert len(statement.json()["items"]) == 7


def test_given_record_secrets_when_logging_in_then_the_hook_lists_tokens_and_otp(make_caller: Any) -> None:
    from trastpay_sandbox.options import SandboxOptions

    caller = make_caller(SandboxOptions(faults={"record_secrets": True}))
    secrets = caller.client.get("/_sandbox/issued-secrets").json()
    assert caller.tokens["access_token"] in secrets["access_tokens"]
    assert caller.tokens["refresh_token"] in secrets["refresh_tokens"]
    assert len(secrets["otps"]) == 1
    assert secrets["otps"][0].isdigit()


def test_given_switches_off_when_reading_then_secrets_are_not_recorded(caller: Any) -> None:
    assert caller.client.get("/_sandbox/issued-secrets").json() == {
        "access_tokens": [],
        "refresh_tokens": [],
        "otps": [],
    }


@pytest.mark.parametrize(
    ("path", "stream"),
    [
        ("/api/v1/trastpay/statement", "card_transactions"),
        ("/api/v1/trastpay/cards", "cards"),
        ("/api/v1/trastpay/cards/crd_1/statements", "statements"),
        ("/api/v1/trastpay/microloan/ml_1/repayments", "microloan_repayments"),
        ("/api/v1/trastpay/microloan/ml_1", None),
    ],
)
def test_given_a_data_path_then_its_stream_is_known(path: str, stream: str | None) -> None:
    assert stream_of(path) == stream
