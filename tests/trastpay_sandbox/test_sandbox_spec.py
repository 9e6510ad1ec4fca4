"""The OpenAPI contract: valid 3.1, in step with the app's routes, and built on schemas/."""

from __future__ import annotations

import re
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import schemathesis
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.specs.openapi.definitions import OPENAPI_31
from starlette.routing import Route

from trastpay_sandbox.app import all_routes
from trastpay_sandbox.spec import SPEC_PATH, bundled_spec, load_raw_spec
from trastpay_sandbox.world import SandboxSettings, World

METHODS = {"get", "post", "put", "patch", "delete"}


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _file_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = (
            [node["$ref"]] if isinstance(node.get("$ref"), str) and not node["$ref"].startswith("#") else []
        )
        return found + [ref for value in node.values() for ref in _file_refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _file_refs(item)]
    return []


def test_given_bundled_spec_when_validated_then_it_is_openapi_31() -> None:
    spec = bundled_spec()

    jsonschema.Draft202012Validator(OPENAPI_31).validate(spec)
    assert spec["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(spec).validate()


def test_given_bundled_spec_when_loaded_then_every_schema_is_valid_json_schema() -> None:
    for name, schema in bundled_spec()["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as error:
            pytest.fail(f"components.schemas.{name}: {error.message}")


def test_given_app_routes_when_compared_then_spec_covers_exactly_them() -> None:
    app_operations = {
        (method.lower(), _normalise(route.path))
        for route in all_routes()
        if isinstance(route, Route)
        for method in (route.methods or set())
        if method != "HEAD"
    }
    spec_operations = {
        (method, _normalise(path))
        for path, item in load_raw_spec()["paths"].items()
        for method in item
        if method in METHODS
    }

    assert app_operations - spec_operations == set(), "routes missing from openapi.yaml"
    assert spec_operations - app_operations == set(), "operations in openapi.yaml the app does not serve"


def test_given_raw_spec_when_read_then_records_ref_schema_files_relatively() -> None:
    refs = set(_file_refs(load_raw_spec()))

    assert "../schemas/card_transactions.json" in refs
    for ref in refs:
        assert ref.startswith("../schemas/"), ref
        assert (SPEC_PATH.parent / ref).resolve().is_file(), ref


def test_given_every_stream_schema_file_when_listed_then_spec_references_it() -> None:
    schema_dir = SPEC_PATH.parent.parent / "schemas"
    # sync_audit is written by the connector, not served by the API
    stream_files = {f"../schemas/{p.name}" for p in schema_dir.glob("*.json") if p.stem != "sync_audit"}

    assert stream_files <= set(_file_refs(load_raw_spec()))


@pytest.mark.parametrize("path", ["/openapi.json", "/openapi.yaml"])
def test_given_served_spec_when_fetched_then_self_contained(client: Any, path: str) -> None:
    response = client.get(path)

    document = response.json() if path.endswith("json") else yaml.safe_load(response.text)
    assert document == bundled_spec()
    assert _file_refs(document) == []


def _response_schema(operation_path: str, method: str = "get") -> dict[str, Any]:
    spec = bundled_spec()
    content = spec["paths"][operation_path][method]["responses"]["200"]["content"]["application/json"]
    return {"components": spec["components"], **content["schema"]}


def _parent_ids(caller: Any) -> dict[str, list[str]]:
    def ids(path: str, key: str) -> list[str]:
        return [item[key] for item in caller.get(path, page_size=1000).json()["items"]]

    return {
        "card_token": ids("/cards", "card_token"),
        "loan_id": ids("/microloan", "id"),
        "plan_id": ids("/instalments", "id"),
        "deposit_id": ids("/deposits", "id"),
    }


def test_given_seeded_data_when_every_list_route_read_then_pages_conform_to_spec(rich_caller: Any) -> None:
    caller = rich_caller
    caller.client.post("/_sandbox/clock", json={"advance": "P3D"})
    caller.tokens = caller.refresh().json()
    parents = _parent_ids(caller)
    assert all(parents.values()), "the rich fixture must have every kind of parent"
    checked: dict[str, int] = {}
    for spec_path in bundled_spec()["paths"]:
        if not spec_path.startswith("/api/v1/trastpay/") or "export" in spec_path or "auth" in spec_path:
            continue
        item = bundled_spec()["paths"][spec_path]
        if "get" not in item or spec_path.endswith(("/fx/rates", "/microloan/{loan_id}")):
            continue
        params = re.findall(r"\{([^}]+)\}", spec_path)
        values = parents[params[0]][:3] if params else [None]
        validator = jsonschema.Draft202012Validator(_response_schema(spec_path))
        for value in values:
            path = spec_path.removeprefix("/api/v1/trastpay")
            if value is not None:
                path = path.replace("{" + params[0] + "}", value)
            response = caller.get(path, page_size=1000)
            assert response.status_code == 200, (path, response.text)
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.json())]
            assert errors == [], (path, errors[:5])
            checked[spec_path] = checked.get(spec_path, 0) + len(response.json()["items"])

    empty = sorted(path for path, count in checked.items() if count == 0 and "invoices" not in path)
    assert empty == [], "routes that served no record to validate"


def test_given_statement_and_loan_and_rates_when_read_then_conform_to_spec(rich_caller: Any) -> None:
    caller = rich_caller
    card = caller.get("/cards").json()["items"][0]["card_token"]
    statement = caller.statement(
        card_token=card, **{"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}, page_size=1000
    ).json()
    rates = caller.get("/fx/rates", date="2026-10-01").json()

    jsonschema.validate(statement, _response_schema("/api/v1/trastpay/statement", "post"))
    jsonschema.validate(rates, _response_schema("/api/v1/trastpay/fx/rates"))
    loans = caller.get("/microloan").json()["items"]
    for loan in loans:
        single = caller.get(f"/microloan/{loan['id']}").json()
        assert single == loan
        jsonschema.validate(single, _response_schema("/api/v1/trastpay/microloan/{loan_id}"))
    assert statement["items"]
    assert loans


def test_given_every_event_of_a_world_when_validated_against_its_webhook_schema_then_it_conforms() -> None:
    spec = bundled_spec()
    registry: Registry[Any] = Registry().with_resource(
        "urn:spec", Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    world = World(SandboxSettings(seed=42, customers=3, history_days=400))
    seen: set[str] = set()
    for customer in world.customers():
        for event in world.truth(customer.id, "events"):
            assert event["type"] in spec["webhooks"], f"no webhooks entry for event type {event['type']}"
            pointer = f"urn:spec#/webhooks/{event['type']}/post/requestBody/content/application~1json/schema"
            jsonschema.Draft202012Validator({"$ref": pointer}, registry=registry).validate(event)
            seen.add(event["type"])
    parameters = spec["webhooks"]["transfer.failed"]["post"]["parameters"]
    names = {p.get("name") or p["$ref"].rsplit("/", 1)[-1] for p in parameters}

    assert names == {"X-Trastpay-Event", "WebhookSignature", "WebhookIdempotencyKey"}
    assert len(seen) >= 20
