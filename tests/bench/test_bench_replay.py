"""The bench's replay server serves every recorded statement page under the number the contract gives it.

Statement pages are 1-based (``"page": 0`` is read as 1, ``next_page`` names the page to ask for):
a client following ``next_page`` from either start must get exactly the sandbox's records, in
order, and a page that was never recorded is a 404, never another page's records.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import urllib3

from trastpay_sandbox.testing import SandboxServer

BENCH = Path(__file__).resolve().parents[2] / "bench"
FROM, TO = "2000-01-01T00:00:00+05:00", "2100-01-01T00:00:00+05:00"


def _bench_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building the class
    spec.loader.exec_module(module)
    return module


replay = _bench_module("replay")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=1, transactions=6000, seed=7) as server:
        yield server


def _pages(url: str, headers: dict[str, str], card: str, first: int) -> list[dict[str, Any]]:
    """Every record of ``card`` following ``next_page`` from page ``first``."""
    parts = urlsplit(url)
    pool = urllib3.HTTPConnectionPool(parts.hostname or "127.0.0.1", parts.port, retries=False, timeout=60)
    records: list[dict[str, Any]] = []
    page: int | None = first
    while page is not None:
        body = {"card_token": card, "from": FROM, "to": TO, "include_commission": True}
        body |= {"page": page, "page_size": 1000}
        answer = pool.urlopen("POST", parts.path + "/statement", body=orjson.dumps(body), headers=headers)
        assert answer.status == 200, answer.data[:200]
        document = orjson.loads(answer.data)
        records += document["items"]
        page = document["next_page"]
    pool.close()
    return records


def test_given_a_recorded_card_when_replayed_from_page_0_or_1_then_every_page_comes_once_in_order(
    sandbox: SandboxServer,
) -> None:
    device = "dev-replay-test"
    tokens = sandbox.login(sandbox.customers()[0]["phone"], device_id=device)
    headers = {
        "Authorization": f"Bearer {tokens['access_token']}",
        "X-Device-Id": device,
        "Content-Type": "application/json",
    }
    cards = orjson.loads(
        urllib3.request("GET", sandbox.api_url + "/cards?page_size=1000", headers=headers).data
    )["items"]
    counts = {
        card["card_token"]: len(_pages(sandbox.api_url, headers, card["card_token"], 1)) for card in cards
    }
    card = max(counts, key=lambda token: counts[token])
    truth = _pages(sandbox.api_url, headers, card, 1)
    assert len(truth) > 2000  # three pages or more: a skipped page would show

    recording = replay.record(sandbox.api_url, tokens, device, "trastpay-connectors", [card])
    server = ThreadingHTTPServer(("127.0.0.1", 0), replay._handler(recording))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}{recording.api_path}"
        assert recording.records(card) == len(truth)
        for first in (0, 1):
            assert _pages(url, headers, card, first) == truth
        beyond = max(recording.statements[card]) + 1
        body = orjson.dumps({"card_token": card, "page": beyond})
        missing = urllib3.request("POST", url + "/statement", body=body, headers=headers)
        assert missing.status == 404
    finally:
        server.shutdown()
        server.server_close()
