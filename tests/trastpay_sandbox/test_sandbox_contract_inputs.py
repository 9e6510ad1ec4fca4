"""Accepted query parameters and body fields come from openapi.yaml: anything else is a 400 naming it."""

from __future__ import annotations

from typing import Any

import pytest

from trastpay_sandbox.app import all_routes
from trastpay_sandbox.spec import body_fields, load_raw_spec, query_names

API = "/api/v1/trastpay"
QUERY_ROUTES = [
    (API + "/cards", API + "/cards"),
    (API + "/transfers", API + "/transfers"),
    (API + "/myhome/invoices", API + "/myhome/invoices"),
    (API + "/microloan/ln_x", API + "/microloan/{loan_id}"),
    (API + "/fx/rates", API + "/fx/rates"),
    (API + "/cards/ct_x/statement/export", API + "/cards/{card_token}/statement/export"),
    ("/_sandbox/customers", "/_sandbox/customers"),
    ("/_sandbox/otp", "/_sandbox/otp"),
    ("/_sandbox/truth/cards", "/_sandbox/truth/{stream}"),
]
BODY_ROUTES = [
    API + "/statement",
    API + "/auth/otp",
    API + "/auth/login",
    API + "/auth/refresh",
    "/_sandbox/clock",
    "/_sandbox/webhooks",
    "/_sandbox/webhooks/rotate-secret",
    "/_sandbox/webhooks/replay",
]


def test_given_every_app_route_when_looked_up_then_the_contract_declares_its_operations() -> None:
    paths = load_raw_spec()["paths"]
    for route in all_routes():
        template = getattr(route, "path", "")
        for method in getattr(route, "methods", set()) - {"HEAD"}:
            assert method.lower() in paths.get(template, {}), f"{method} {template}"
            query_names(method, template)
            body_fields(method, template)


@pytest.mark.parametrize(("url", "template"), QUERY_ROUTES)
def test_given_a_query_parameter_the_contract_lacks_when_requested_then_400_names_it(
    caller: Any, problem_of: Any, url: str, template: str
) -> None:
    response = caller.client.get(url, params={"colour": "red"}, headers=caller.headers)

    assert response.status_code == 400, response.text
    problem = problem_of(response)
    assert problem["field"] == "colour"
    assert ", ".join(sorted(query_names("GET", template))) in problem["detail"]


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_given_a_body_field_the_contract_lacks_when_posted_then_400_names_it(
    caller: Any, problem_of: Any, path: str
) -> None:
    response = caller.client.post(path, json={"colour": "red"}, headers=caller.headers)

    assert response.status_code == 400, response.text
    problem = problem_of(response)
    assert problem["field"] == "colour"
    assert ", ".join(sorted(body_fields("POST", path))) in problem["detail"]
