"""Generate the Postman collection and environment from ``trastpay_sandbox/openapi.yaml``.

Every operation of the spec becomes one request in a folder (the ``FOLDERS`` table); an
operation missing from that table is an error, so the collection cannot silently fall behind
the contract. Run ``python clients/postman/generate.py`` to rewrite the JSON files, or with
``--check`` to exit 1 when the committed files differ from what the spec generates.

The Auth folder is a login chain: request an OTP, read it through ``/_sandbox/otp``, log in,
rotate the refresh token, then present the spent one (refused with 401, which revokes the
whole login in strict mode) and log in again, so every later request has a live token.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from postman_scripts import (
    customers_test,
    encode_phone,
    expired_tokens_test,
    field_test,
    fx_rates_test,
    json_lines_test,
    object_test,
    otp_hook_test,
    page_test,
    pick_customer,
    read_otp,
    remember_refresh_token,
    request_otp_test,
    reuse_rejected_test,
    rotation_test,
    send_and_read_otp,
    status_test,
    store_field_test,
    store_tokens_test,
    text_contains_test,
)

HERE = Path(__file__).resolve().parent
SPEC_PATH = HERE.parents[1] / "trastpay_sandbox" / "openapi.yaml"
COLLECTION_PATH = HERE / "trastpay.postman_collection.json"
ENVIRONMENT_PATH = HERE / "trastpay-sandbox.postman_environment.json"
COLLECTION_ID = "5f0c7a52-9d1e-4f57-8b43-7a1f3c2e6d01"
ENVIRONMENT_ID = "0b7f8a8e-3c55-4d1a-9e27-2f6c9d4b5a10"
METHODS = ("get", "post", "put", "patch", "delete")

# (folder, [(operationId, variant)]) in run order; variants add extra steps of the login chain.
FOLDERS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Auth",
        [
            ("requestOtp", ""),
            ("login", ""),
            ("introspectRefreshToken", ""),
            ("refreshTokens", ""),
            ("refreshTokens", "reuse"),
            ("login", "again"),
        ],
    ),
    (
        "Cards & statements",
        [("listCards", ""), ("cardStatement", ""), ("listStatements", ""), ("exportStatement", "")],
    ),
    ("Transfers", [("listTransfers", "")]),
    (
        "Microloans",
        [
            ("listMicroloans", ""),
            ("getMicroloan", ""),
            ("microloanEligibility", ""),
            ("listMicroloanSchedule", ""),
            ("listMicroloanRepayments", ""),
        ],
    ),
    ("Instalments", [("listInstalmentPlans", ""), ("listInstalmentPayments", "")]),
    ("Deposits", [("listDeposits", ""), ("listDepositOperations", "")]),
    ("FX", [("listFxConversions", ""), ("fxRates", "")]),
    ("Virtual cards", [("listVirtualCards", "")]),
    ("My Home", [("listUtilityPayments", ""), ("listSavedInvoices", "")]),
    ("Cashback", [("listCashbackLedger", "")]),
    ("Events", [("listEvents", "")]),
    (
        "Sandbox",
        [
            ("sandboxCustomers", ""),
            ("sandboxOtp", ""),
            ("openapiJson", ""),
            ("openapiYaml", ""),
            ("sandboxTruth", ""),
            ("sandboxClockGet", ""),
            ("sandboxFaultsGet", ""),
            ("sandboxFaultsSet", ""),
            ("sandboxFaultsClear", ""),
            ("sandboxWebhookRegister", ""),
            ("sandboxWebhookRotateSecret", ""),
            ("sandboxWebhookReplay", ""),
            ("sandboxClockMove", ""),
            ("sandboxExpireTokens", ""),
            ("sandboxIssuedSecrets", ""),
            ("sandboxRequestJournal", ""),
            ("sandboxTokenCounters", ""),
        ],
    ),
]

LOGIN_BODY = {
    "phone": "{{phone}}",
    "otp": "{{otp}}",
    "device_id": "{{device_id}}",
    "client_id": "{{client_id}}",
}
BODIES: dict[str, dict[str, Any]] = {
    "requestOtp": {"phone": "{{phone}}"},
    "login": LOGIN_BODY,
    "login/again": LOGIN_BODY,
    "refreshTokens": {
        "refresh_token": "{{refresh_token}}",
        "client_id": "{{client_id}}",
        "device_id": "{{device_id}}",
    },
    "introspectRefreshToken": {
        "token": "{{refresh_token}}",
        "client_id": "{{client_id}}",
        "device_id": "{{device_id}}",
    },
    "refreshTokens/reuse": {
        "refresh_token": "{{previous_refresh_token}}",
        "client_id": "{{client_id}}",
        "device_id": "{{device_id}}",
    },
    "cardStatement": {
        "card_token": "{{card_token}}",
        "from": "{{statement_from}}",
        "to": "{{statement_to}}",
        "include_commission": True,
        "page": 1,
        "page_size": 100,
    },
    "microloanEligibility": {"amount_minor": 1_000_000_000, "term_months": 12},
    "sandboxFaultsSet": {"latency_ms": 0},
    "sandboxWebhookRegister": {
        "url": "{{webhook_url}}",
        "secret": "{{webhook_secret}}",
        "phone": "{{phone}}",
    },
    "sandboxWebhookRotateSecret": {
        "subscription_id": "{{subscription_id}}",
        "secret": "{{webhook_secret_next}}",
        "grace_seconds": 60,
    },
    "sandboxWebhookReplay": {"from_event": "{{event_id}}", "to_event": "{{last_event_id}}"},
    "sandboxClockMove": {"advance": "PT1M"},
}
NAMES = {
    "refreshTokens/reuse": "Refresh with the spent token is refused (revokes the login)",
    "login/again": "Log in again after the reuse check",
}
PATH_VALUES = {
    "card_token": "{{card_token}}",
    "loan_id": "{{loan_id}}",
    "plan_id": "{{plan_id}}",
    "deposit_id": "{{deposit_id}}",
    "stream": "fx_conversions",
}
QUERY_VALUES = {
    "from": "{{export_from}}",
    "to": "{{export_to}}",
    "format": "json",
    "date": "{{fx_date}}",
    "phone": "{{phone_encoded}}",
    "page_size": "100",
}
# List operations: (environment variable, item field) captured from the first page, if any.
CAPTURES: dict[str, tuple[str, str]] = {
    "listCards": ("card_token", "card_token"),
    "listMicroloans": ("loan_id", "id"),
    "listInstalmentPlans": ("plan_id", "id"),
    "listDeposits": ("deposit_id", "id"),
    "listEvents": ("event_id", "id"),
}
MUST_HAVE_ITEMS = {"listCards", "cardStatement", "listMicroloans", "listInstalmentPlans", "listDeposits"}
PRE_REQUEST: dict[str, list[str]] = {
    "requestOtp": pick_customer(),
    "login": read_otp(),
    "login/again": send_and_read_otp(),
    "refreshTokens": remember_refresh_token(),
    "sandboxOtp": [*encode_phone(), *send_and_read_otp()],
    "sandboxTruth": encode_phone(),
}
TESTS: dict[str, list[str]] = {
    "requestOtp": request_otp_test(),
    "login": store_tokens_test(),
    "login/again": store_tokens_test(),
    "refreshTokens": rotation_test(),
    "getMicroloan": object_test("loan_id"),
    "microloanEligibility": [*object_test(None), *field_test("decision_code", "string")],
    "exportStatement": [*object_test(None), *field_test("opening_balance_minor", "number")],
    "fxRates": fx_rates_test(),
    "sandboxCustomers": customers_test(),
    "sandboxOtp": otp_hook_test(),
    "openapiJson": field_test("openapi", "string"),
    "openapiYaml": text_contains_test("openapi: 3.1"),
    "sandboxTruth": json_lines_test(),
    "sandboxClockGet": field_test("now", "string"),
    "sandboxFaultsGet": field_test("counters", "object"),
    "sandboxFaultsSet": field_test("faults", "object"),
    "sandboxFaultsClear": field_test("faults", "object"),
    "sandboxWebhookRegister": store_field_test("subscription_id", "subscription_id"),
    "sandboxClockMove": field_test("now", "string"),
    "sandboxExpireTokens": expired_tokens_test(),
}
ENVIRONMENT: list[tuple[str, str, str]] = [
    ("base_url", "http://127.0.0.1:8765", "default"),
    ("phone", "", "default"),
    ("device_id", "postman-device-1", "default"),
    ("client_id", "trastpay-postman", "default"),
    ("access_token", "", "secret"),
    ("refresh_token", "", "secret"),
    ("previous_refresh_token", "", "secret"),
    ("card_token", "", "default"),
    ("loan_id", "", "default"),
    ("plan_id", "", "default"),
    ("deposit_id", "", "default"),
    ("event_id", "", "default"),
    ("last_event_id", "", "default"),
    ("statement_from", "2025-11-01T00:00:00+05:00", "default"),
    ("statement_to", "2026-11-01T00:00:00+05:00", "default"),
    ("export_from", "2026-10-01", "default"),
    ("export_to", "2026-10-31", "default"),
    ("fx_date", "2026-10-30", "default"),
    ("webhook_url", "http://127.0.0.1:9/postman-webhook", "default"),
    ("webhook_secret", "postman-webhook-secret-1", "secret"),
    ("webhook_secret_next", "postman-webhook-secret-2", "secret"),
    ("subscription_id", "", "default"),
]


def operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (METHOD, path, operation) for every operation of the spec."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = spec
    for part in ref[2:].split("/"):
        target = target[part]
    return dict(target)


def _is_list_page(spec: dict[str, Any], operation: dict[str, Any]) -> str | None:
    """The next_page kind (`string` token or `number` page) when the answer is a page, else None."""
    content = _resolve(spec, operation["responses"].get("200", {})).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    if isinstance(ref, str) and ref.endswith("Page"):
        return "string"
    if "items" in schema.get("properties", {}):
        return "number"
    return None


def _url(spec: dict[str, Any], path: str, operation: dict[str, Any]) -> dict[str, Any]:
    segments: list[str] = []
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            if name not in PATH_VALUES:
                raise SystemExit(f"no value for path parameter {name!r} of {operation['operationId']}")
            segment = PATH_VALUES[name]
        segments.append(segment)
    query: list[dict[str, Any]] = []
    for raw in operation.get("parameters", []):
        parameter = _resolve(spec, raw)
        if parameter["in"] != "query":
            continue
        name = parameter["name"]
        entry: dict[str, Any] = {"key": name, "value": QUERY_VALUES.get(name, "")}
        if not parameter.get("required") and name != "page_size":
            entry["disabled"] = True
        query.append(entry)
    raw_url = "{{base_url}}/" + "/".join(segments)
    enabled = [f"{q['key']}={q['value']}" for q in query if not q.get("disabled")]
    if enabled:
        raw_url += "?" + "&".join(enabled)
    url: dict[str, Any] = {"raw": raw_url, "host": ["{{base_url}}"], "path": segments}
    if query:
        url["query"] = query
    return url


def _headers(spec: dict[str, Any], operation: dict[str, Any], has_body: bool) -> list[dict[str, Any]]:
    headers: list[dict[str, Any]] = []
    if operation.get("security"):
        headers.append({"key": "Authorization", "value": "Bearer {{access_token}}"})
        headers.append({"key": "X-Device-Id", "value": "{{device_id}}"})
    if has_body:
        headers.append({"key": "Content-Type", "value": "application/json"})
    for raw in operation.get("parameters", []):
        parameter = _resolve(spec, raw)
        if parameter["in"] == "header":
            headers.append({"key": parameter["name"], "value": "postman-consent", "disabled": True})
    return headers


def _event(listen: str, lines: list[str]) -> dict[str, Any]:
    return {"listen": listen, "script": {"type": "text/javascript", "exec": lines}}


def _tests(spec: dict[str, Any], key: str, operation_id: str, operation: dict[str, Any]) -> list[str]:
    if key == "refreshTokens/reuse":
        return reuse_rejected_test()
    codes = sorted(int(code) for code in operation["responses"] if str(code).startswith("2"))
    lines = status_test(codes)
    page_kind = _is_list_page(spec, operation)
    if page_kind is not None:
        lines += page_test(page_kind, CAPTURES.get(operation_id), operation_id in MUST_HAVE_ITEMS)
    return lines + TESTS.get(key, [])


def build_item(
    spec: dict[str, Any], ops: dict[str, tuple[str, str, dict[str, Any]]], operation_id: str, variant: str
) -> dict[str, Any]:
    """One Postman request for an operation (``variant`` selects a login-chain step)."""
    method, path, operation = ops[operation_id]
    key = f"{operation_id}/{variant}" if variant else operation_id
    body = BODIES.get(key)
    if "requestBody" in operation and operation["requestBody"].get("required") and body is None:
        raise SystemExit(f"no request body template for {key}")
    request: dict[str, Any] = {
        "method": method,
        "header": _headers(spec, operation, body is not None),
        "url": _url(spec, path, operation),
        "description": f"operationId: {operation_id}. {operation.get('summary', '')}".strip(),
    }
    if body is not None:
        request["body"] = {
            "mode": "raw",
            "raw": json.dumps(body, indent=2),
            "options": {"raw": {"language": "json"}},
        }
    events = []
    if key in PRE_REQUEST:
        events.append(_event("prerequest", PRE_REQUEST[key]))
    events.append(_event("test", _tests(spec, key, operation_id, operation)))
    return {
        "name": NAMES.get(key, operation.get("summary", operation_id)),
        "event": events,
        "request": request,
    }


def build_collection(spec: dict[str, Any]) -> dict[str, Any]:
    """The whole v2.1 collection; raises SystemExit when the spec and FOLDERS disagree."""
    ops = operations(spec)
    listed = {operation_id for _, steps in FOLDERS for operation_id, _ in steps}
    missing = sorted(set(ops) - listed)
    unknown = sorted(listed - set(ops))
    if missing or unknown:
        raise SystemExit(f"FOLDERS out of sync with the spec: missing {missing}, unknown {unknown}")
    folders = [
        {
            "name": name,
            "item": [build_item(spec, ops, operation_id, variant) for operation_id, variant in steps],
        }
        for name, steps in FOLDERS
    ]
    return {
        "info": {
            "_postman_id": COLLECTION_ID,
            "name": "Trastpay partner API (sandbox)",
            "description": (
                f"Generated by clients/postman/generate.py from trastpay_sandbox/openapi.yaml "
                f"(version {spec['info']['version']}); do not edit by hand. Run the folders in order: "
                "Auth logs in through the sandbox OTP hook and keeps the tokens in the environment."
            ),
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "item": folders,
    }


def build_environment() -> dict[str, Any]:
    """The sandbox environment: base URL, device and client ids, slots for tokens and ids."""
    return {
        "id": ENVIRONMENT_ID,
        "name": "Trastpay sandbox",
        "values": [
            {"key": key, "value": value, "type": kind, "enabled": True} for key, value, kind in ENVIRONMENT
        ],
        "_postman_variable_scope": "environment",
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed JSON is stale")
    parser.add_argument("--spec", type=Path, default=SPEC_PATH)
    args = parser.parse_args(argv)
    spec = yaml.safe_load(args.spec.read_text(encoding="utf-8"))
    outputs = {COLLECTION_PATH: render(build_collection(spec)), ENVIRONMENT_PATH: render(build_environment())}
    stale = [
        path
        for path, text in outputs.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    if args.check:
        for path in stale:
            sys.stderr.write(f"{path.name} is stale: run python clients/postman/generate.py\n")
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
