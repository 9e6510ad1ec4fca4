"""The /_sandbox hooks: clock, truth, customers, OTP peek and webhook wiring."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from trastpay.webhook_signatures import verify_signature


def test_given_clock_when_advanced_p1d_then_now_moves_one_day(client: Any) -> None:
    before = datetime.fromisoformat(client.get("/_sandbox/clock").json()["now"])

    response = client.post("/_sandbox/clock", json={"advance": "P1D"})

    assert response.status_code == 200
    assert datetime.fromisoformat(response.json()["now"]) - before == timedelta(days=1)
    assert response.json()["advanced_by_s"] == 86_400


def test_given_clock_when_set_forward_with_utc_offset_then_same_instant(client: Any) -> None:
    now = datetime.fromisoformat(client.get("/_sandbox/clock").json()["now"])
    target = now + timedelta(hours=6)

    response = client.post("/_sandbox/clock", json={"set": target.astimezone().isoformat()})

    assert datetime.fromisoformat(response.json()["now"]) == target


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"advance": "one day"}, "advance"),
        ({"advance": "P1DT"}, "advance"),
        ({"advance": "-P1D"}, "advance"),
        ({"advance": "PT0S"}, "advance"),
        ({"set": "2020-01-01T00:00:00+05:00"}, "set"),
        ({"set": "not a time"}, "set"),
        ({"advance": "P1D", "set": "2030-01-01T00:00:00Z"}, "advance"),
        ({}, "advance"),
        ({"advance": "P20Y"}, "advance"),
        ({"speed": 2}, "speed"),
    ],
)
def test_given_bad_clock_move_when_posted_then_400_names_field(
    client: Any, problem_of: Any, body: dict[str, Any], field: str
) -> None:
    before = client.get("/_sandbox/clock").json()["now"]

    response = client.post("/_sandbox/clock", json=body)

    assert response.status_code == 400
    assert problem_of(response)["field"] == field
    assert client.get("/_sandbox/clock").json()["now"] == before


def test_given_customers_hook_when_read_then_phones_and_masked_cards(client: Any) -> None:
    customers = client.get("/_sandbox/customers").json()

    assert len(customers) == 3
    for customer in customers:
        assert customer["phone"].startswith("+998")
        for card in customer["cards"]:
            assert "******" in card["pan_masked"]


def test_given_truth_when_read_then_json_lines_equal_api_listing(caller: Any) -> None:
    listed = caller.get("/events", page_size=1000).json()["items"]

    response = caller.client.get("/_sandbox/truth/events", params={"phone": caller.phone})

    assert response.headers["content-type"].startswith("application/x-ndjson")
    truth = [json.loads(line) for line in response.text.splitlines()]
    assert truth[: len(listed)] == listed


def test_given_clock_advanced_when_truth_read_then_new_records_appear(caller: Any) -> None:
    before = caller.client.get("/_sandbox/truth/events", params={"phone": caller.phone}).text.count("\n")

    caller.client.post("/_sandbox/clock", json={"advance": "P7D"})

    after = caller.client.get("/_sandbox/truth/events", params={"phone": caller.phone}).text.count("\n")
    assert after > before


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/_sandbox/truth/nope", {"phone": "+998901234567"}, 404, "stream"),
        ("/_sandbox/truth/events", {}, 400, "phone"),
        ("/_sandbox/truth/events", {"phone": "+998000000000"}, 404, "phone"),
        ("/_sandbox/otp", {"phone": "12345"}, 400, "phone"),
    ],
)
def test_given_bad_hook_query_when_read_then_problem_names_field(
    client: Any, problem_of: Any, path: str, params: dict[str, str], status: int, field: str
) -> None:
    response = client.get(path, params=params)

    assert response.status_code == status
    assert problem_of(response)["field"] == field


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def test_given_webhook_registered_when_clock_advances_then_signed_events_arrive(
    client: Any, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = receiver
    assert client.post("/_sandbox/webhooks", json={"url": url, "secret": "whsec-test"}).status_code == 201

    client.post("/_sandbox/clock", json={"advance": "P1D"})

    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert received, "no webhook delivered within 10 s"
    headers, body = received[0]
    verify_signature(headers["X-Trastpay-Signature"], body, ["whsec-test"], now=int(time.time()))
    assert headers["X-Idempotency-Key"] == json.loads(body)["id"]


def test_given_non_local_webhook_url_when_registered_then_400_names_url(client: Any, problem_of: Any) -> None:
    response = client.post("/_sandbox/webhooks", json={"url": "http://example.com/hook", "secret": "s"})

    assert response.status_code == 400
    assert problem_of(response)["field"] == "url"


def test_given_unknown_subscription_when_rotating_then_404(client: Any, problem_of: Any) -> None:
    response = client.post(
        "/_sandbox/webhooks/rotate-secret", json={"subscription_id": "whsub_x", "secret": "n"}
    )

    assert response.status_code == 404
    assert problem_of(response)["field"] == "subscription_id"
