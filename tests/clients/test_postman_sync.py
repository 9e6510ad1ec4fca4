"""The committed Postman collection stays in sync with the OpenAPI contract.

Two promises: every operation of ``trastpay_sandbox/openapi.yaml`` has a request in the collection
(matched by method and path, independently of the generator), and the committed JSON is exactly
what ``clients/postman/generate.py`` produces from the current spec.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
POSTMAN = ROOT / "clients" / "postman"
SPEC = ROOT / "trastpay_sandbox" / "openapi.yaml"
FOLDERS = [
    "Auth",
    "Cards & statements",
    "Transfers",
    "Microloans",
    "Instalments",
    "Deposits",
    "FX",
    "Virtual cards",
    "My Home",
    "Cashback",
    "Events",
    "Sandbox",
]


def _collection() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (POSTMAN / "trastpay.postman_collection.json").read_text(encoding="utf-8")
    )
    return loaded


def _requests(collection: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(folder, METHOD, /path) of every request, with {{variables}} left in the path."""
    found = []
    for folder in collection["item"]:
        for item in folder["item"]:
            request = item["request"]
            found.append((folder["name"], request["method"], "/" + "/".join(request["url"]["path"])))
    return found


def _spec_operations() -> list[tuple[str, str, str]]:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return [
        (operation["operationId"], method.upper(), path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_given_the_spec_when_reading_the_collection_then_every_operation_has_a_request() -> None:
    requests = _requests(_collection())
    missing = []
    for operation_id, method, path in _spec_operations():
        pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")
        if not any(m == method and pattern.match(p) for _, m, p in requests):
            missing.append(f"{operation_id} ({method} {path})")
    assert not missing, f"operations without a Postman request: {missing}"


def test_given_the_collection_when_listing_folders_then_the_documented_folders_come_in_run_order() -> None:
    collection = _collection()
    assert [folder["name"] for folder in collection["item"]] == FOLDERS
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    auth = [item["request"]["url"]["path"][-1] for item in collection["item"][0]["item"]]
    assert auth == ["otp", "login", "introspect", "refresh", "refresh", "login"], (
        "login chain, introspection (spends nothing), rotation, reuse check, re-login"
    )


def test_given_data_requests_when_reading_them_then_they_carry_the_token_and_device_headers() -> None:
    for folder in _collection()["item"]:
        for item in folder["item"]:
            path = item["request"]["url"]["path"]
            if path[:3] != ["api", "v1", "trastpay"] or path[3] == "auth":
                continue
            headers = {h["key"]: h["value"] for h in item["request"]["header"] if not h.get("disabled")}
            assert headers.get("Authorization") == "Bearer {{access_token}}", item["name"]
            assert headers.get("X-Device-Id") == "{{device_id}}", item["name"]


def test_given_the_committed_json_when_regenerating_from_the_spec_then_nothing_changes() -> None:
    result = subprocess.run(
        [sys.executable, str(POSTMAN / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (
        f"stale Postman files, run python clients/postman/generate.py:\n{result.stderr}"
    )
