from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from starlette.testclient import TestClient


def test_given_clock_advanced_past_real_time_when_any_request_then_date_header_follows_sandbox_clock(
    client: TestClient,
) -> None:
    client.post("/_sandbox/clock", json={"advance": "P400D"})
    response = client.get("/_sandbox/clock")
    sandbox_now = response.json()["now"]
    assert parsedate_to_datetime(response.headers["date"]) == datetime.fromisoformat(sandbox_now)
    assert len(response.headers.get_list("date")) == 1
