"""Error shapes (RFC 9457), request ids, consent echo, and input validation of the statement route."""

from __future__ import annotations

import re
from typing import Any

import pytest

from trastpay_sandbox.problems import PROBLEM_BASE

API = "/api/v1/trastpay"
WIDE = {"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}


def test_given_error_when_answered_then_problem_json_has_rfc9457_members(
    client: Any, problem_of: Any
) -> None:
    response = client.get(API + "/cards")

    problem = problem_of(response)
    assert set(problem) >= {"type", "title", "status", "detail"}
    assert problem["type"].startswith(PROBLEM_BASE)
    assert problem["status"] == response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/_sandbox/clock"), ("GET", "/nowhere"), ("DELETE", API + "/cards"), ("GET", API + "/cards")],
)
def test_given_any_response_when_answered_then_it_carries_a_request_id(
    client: Any, method: str, path: str
) -> None:
    first = client.request(method, path)
    second = client.request(method, path)

    assert first.headers["x-request-id"].startswith("req_")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_given_many_responses_when_their_request_ids_are_logged_then_none_holds_a_digit(client: Any) -> None:
    """Connectors log request ids; hex ids sometimes held 15 digits that pass Luhn (a false PAN)."""
    ids = {client.get("/_sandbox/clock").headers["x-request-id"] for _ in range(200)}

    assert len(ids) == 200
    assert all(re.fullmatch(r"req_[a-z]{16}", request_id) for request_id in ids)


def test_given_wrong_method_when_called_then_405_problem_with_allow(client: Any, slug_of: Any) -> None:
    response = client.delete(API + "/cards")

    assert response.status_code == 405
    assert slug_of(response) == "method-not-allowed"
    assert "GET" in response.headers["allow"]


def test_given_consent_id_when_calling_then_echoed(caller: Any) -> None:
    response = caller.client.get(API + "/cards", headers={**caller.headers, "X-Consent-Id": "consent-42"})

    assert response.headers["x-consent-id"] == "consent-42"


def test_given_statement_when_paging_then_pages_join_to_the_whole_range(caller: Any) -> None:
    card = caller.get("/cards").json()["items"][0]["card_token"]
    whole = caller.statement(card_token=card, page_size=1000, **WIDE).json()
    assert whole["next_page"] is None

    pages: list[dict[str, Any]] = []
    page: int | None = 0
    while page is not None:
        document = caller.statement(card_token=card, page=page, page_size=7, **WIDE).json()
        pages.extend(document["items"])
        page = document["next_page"]

    assert pages == whole["items"]
    keys = [(item["occurred_at"], item["id"]) for item in pages]
    assert len(set(keys)) == len(keys)


def test_given_statement_without_commission_when_read_then_commission_null(caller: Any) -> None:
    card = caller.get("/cards").json()["items"][0]["card_token"]

    items = caller.statement(card_token=card, include_commission=False, page_size=50, **WIDE).json()["items"]

    assert items
    assert all(item["commission_minor"] is None for item in items)


def test_given_other_rail_filter_when_reading_statement_then_empty(caller: Any) -> None:
    card = caller.get("/cards").json()["items"][0]
    other = "HUMO" if card["rail"] != "HUMO" else "UZCARD"

    document = caller.statement(card_token=card["card_token"], rail=other, **WIDE).json()

    now = caller.client.get("/_sandbox/clock").json()["now"]
    assert document == {"items": [], "next_page": None, "complete_until": now}


def test_given_statement_items_when_read_then_no_full_pan_anywhere(caller: Any) -> None:
    card = caller.get("/cards").json()["items"][0]["card_token"]

    text = caller.statement(card_token=card, page_size=1000, **WIDE).text

    assert not re.search(r"(?<![0-9])[0-9]{16}(?![0-9])", text)


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"from": WIDE["from"], "to": WIDE["to"]}, "card_token", 400),
        ({"card_token": "crd_x", "to": WIDE["to"]}, "from", 400),
        ({"card_token": "crd_x", "from": "2026-13-01T00:00:00Z", "to": WIDE["to"]}, "from", 400),
        ({"card_token": "crd_x", "from": "2026-01-01 00:00:00", "to": WIDE["to"]}, "from", 400),
        ({"card_token": "crd_x", "from": WIDE["to"], "to": WIDE["from"]}, "to", 400),
        ({"card_token": "crd_x", **WIDE, "page_size": 1001}, "page_size", 400),
        ({"card_token": "crd_x", **WIDE, "page": -1}, "page", 400),
        ({"card_token": "crd_x", **WIDE, "rail": "AMEX"}, "rail", 400),
        ({"card_token": "crd_x", **WIDE, "include_commission": "yes"}, "include_commission", 400),
        ({"card_token": "crd_x", **WIDE, "cursor": 1}, "cursor", 400),
        ({"card_token": "crd_doesnotexist", **WIDE}, "card_token", 404),
    ],
)
def test_given_bad_statement_body_when_posted_then_problem_names_field(
    caller: Any, problem_of: Any, body: dict[str, Any], field: str, status: int
) -> None:
    response = caller.statement(**body)

    assert response.status_code == status
    assert problem_of(response)["field"] == field


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]"])
def test_given_non_object_body_when_posted_then_400_names_body(
    caller: Any, problem_of: Any, raw: bytes
) -> None:
    response = caller.client.post(API + "/statement", content=raw, headers=caller.headers)

    assert response.status_code == 400
    assert problem_of(response)["field"] == "body"


def test_given_another_customers_card_when_reading_then_404(make_caller: Any, slug_of: Any) -> None:
    first = make_caller()
    second = make_caller(client=first.client, customer_index=1)
    foreign = first.get("/cards").json()["items"][0]["card_token"]

    response = second.statement(card_token=foreign, **WIDE)

    assert response.status_code == 404
    assert slug_of(response) == "not-found"


@pytest.mark.parametrize("fmt", ["json", "xlsx", "pdf"])
def test_given_export_request_when_valid_then_file_of_that_format(caller: Any, fmt: str) -> None:
    card = caller.get("/cards").json()["items"][0]["card_token"]

    response = caller.get(
        f"/cards/{card}/statement/export", **{"from": "2026-10-01", "to": "2026-10-03"}, format=fmt
    )

    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith({"json": b"{", "xlsx": b"PK\x03\x04", "pdf": b"%PDF"}[fmt])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-10-01"}, "from"),
        ({"from": "2026-10-01", "to": "2026-09-01"}, "to"),
        ({"from": "2026-10-01", "to": "2026-10-02", "format": "csv"}, "format"),
    ],
)
def test_given_bad_export_query_when_requested_then_400_names_field(
    caller: Any, problem_of: Any, params: dict[str, str], field: str
) -> None:
    card = caller.get("/cards").json()["items"][0]["card_token"]

    response = caller.get(f"/cards/{card}/statement/export", **params)

    assert response.status_code == 400
    assert problem_of(response)["field"] == field


def test_given_fx_rates_when_day_in_past_then_rates_as_strings(caller: Any) -> None:
    rates = caller.get("/fx/rates", date="2026-10-01").json()

    usd = next(rate for rate in rates if rate["Ccy"] == "USD")
    assert isinstance(usd["Rate"], str)


def test_given_fx_rates_when_day_in_future_then_404(caller: Any, slug_of: Any) -> None:
    assert slug_of(caller.get("/fx/rates", date="2099-01-01")) == "not-found"
