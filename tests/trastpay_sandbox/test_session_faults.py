"""The session fault switches: request journal, revoked tokens, lost refresh answers, visibility, ties."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from trastpay_sandbox.middleware import InjectedConnectionReset
from trastpay_sandbox.session_faults import coarse_instant
from trastpay_sandbox.switches import FaultConfigError, validate_faults


def _set(caller: Any, faults: dict[str, Any]) -> None:
    response = caller.client.post("/_sandbox/faults", json=faults)
    assert response.status_code == 200, response.text


def _journal(caller: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = caller.client.get("/_sandbox/requests").json()["requests"]
    return entries


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"journal": False}, "faults.journal"),
        ({"revoke_access_after_pages": {}}, "faults.revoke_access_after_pages.after_pages"),
        (
            {"revoke_access_after_pages": {"after_pages": 1, "reject_refreshed": 1}},
            "faults.revoke_access_after_pages.reject_refreshed",
        ),
        ({"lose_refresh_answer": {"next_n": 0}}, "faults.lose_refresh_answer.next_n"),
        ({"late_visible": {"delay_s": 60}}, "faults.late_visible.every_n"),
        ({"coarse_cursors": {"seconds": 7}}, "faults.coarse_cursors.seconds"),
        ({"coarse_cursors": {"seconds": 60, "x": 1}}, "faults.coarse_cursors.x"),
    ],
)
def test_given_invalid_session_switch_when_validated_then_error_names_the_field(
    config: dict[str, Any], field: str
) -> None:
    with pytest.raises(FaultConfigError) as raised:
        validate_faults(config)
    assert raised.value.field == field


def test_given_the_journal_when_reading_then_each_request_is_recorded_with_time_status_and_page(
    caller: Any,
) -> None:
    _set(caller, {"journal": True, "rate_limit_storm": {"duration_s": 60, "retry_after_s": 3}})
    card = caller.get("/cards")
    assert card.status_code == 429
    _set(caller, {"journal": True})
    token = caller.get("/cards").json()["items"][0]["card_token"]
    statement = caller.statement(
        card_token=token,
        **{"from": "2026-10-01T00:00:00+05:00", "to": "2026-11-02T00:00:00+05:00"},
        page=2,
        page_size=5,
    )
    assert statement.status_code == 200
    entries = _journal(caller)
    assert [(e["path"].rsplit("/", 1)[-1], e["status"]) for e in entries] == [
        ("cards", 200),
        ("statement", 200),
    ]
    assert entries[1]["page"] == f"{token}:2"
    assert entries[0]["t"] <= entries[1]["t"]


def test_given_revoke_after_pages_when_paging_then_that_token_is_refused_and_a_refreshed_one_works(
    caller: Any, slug_of: Any
) -> None:
    _set(caller, {"revoke_access_after_pages": {"after_pages": 2}})
    assert caller.get("/cards").status_code == 200
    assert caller.get("/cards").status_code == 200
    refused = caller.get("/cards")
    assert refused.status_code == 401
    assert slug_of(refused) == "unauthorized"
    caller.tokens = caller.refresh().json()
    assert caller.get("/cards").status_code == 200
    assert caller.client.get("/_sandbox/faults").json()["counters"]["revoke_access_after_pages"] == 1


def test_given_reject_refreshed_when_the_token_is_revoked_then_the_refreshed_one_is_refused_too(
    caller: Any,
) -> None:
    _set(caller, {"revoke_access_after_pages": {"after_pages": 1, "reject_refreshed": True}})
    assert caller.get("/cards").status_code == 200
    assert caller.get("/cards").status_code == 401
    caller.tokens = caller.refresh().json()
    assert caller.get("/cards").status_code == 401


def test_given_a_lost_refresh_answer_when_refreshing_then_the_server_rotated_but_the_answer_broke(
    caller: Any, slug_of: Any
) -> None:
    _set(caller, {"lose_refresh_answer": {"next_n": 1}})
    spent = caller.tokens["refresh_token"]
    with pytest.raises(InjectedConnectionReset):
        caller.refresh()
    reused = caller.refresh(spent)
    assert reused.status_code == 401
    assert slug_of(reused) == "refresh-token-reused"


def test_given_late_visible_records_when_listed_then_hidden_until_the_clock_passes_them(caller: Any) -> None:
    truth = caller.client.get("/_sandbox/truth/transfers", params={"phone": caller.phone}).text.splitlines()
    _set(caller, {"late_visible": {"delay_s": 10 * 86400, "every_n": 2}})
    hidden = caller.get("/transfers", page_size=1000).json()["items"]
    assert 0 < len(hidden) < len(truth)
    caller.client.post("/_sandbox/clock", json={"advance": "P11D"})
    caller.tokens = caller.refresh().json()
    visible = caller.get("/transfers", page_size=1000).json()["items"]
    assert len(visible) >= len(truth)


def test_given_late_visible_records_when_listed_then_the_watermark_is_behind_every_hidden_one(
    caller: Any,
) -> None:
    now = datetime.fromisoformat(caller.client.get("/_sandbox/clock").json()["now"])
    plain = caller.get("/transfers", page_size=1000).json()
    assert datetime.fromisoformat(plain["complete_until"]) == now
    truth = [
        orjson.loads(line)
        for line in caller.client.get(
            "/_sandbox/truth/transfers", params={"phone": caller.phone}
        ).text.splitlines()
    ]
    _set(caller, {"late_visible": {"delay_s": 3 * 86400, "every_n": 2}})
    answer = caller.get("/transfers", page_size=1000).json()
    watermark = datetime.fromisoformat(answer["complete_until"])
    assert watermark == now - timedelta(days=3)
    shown = {item["id"] for item in answer["items"]}
    hidden = [r for r in truth if r["id"] not in shown]
    assert hidden, "nothing was hidden: the case proves nothing"
    assert all(datetime.fromisoformat(r["updated_at"]) > watermark for r in hidden)
    statement = caller.statement(
        card_token=caller.get("/cards").json()["items"][0]["card_token"],
        **{"from": "2026-01-01T00:00:00+05:00", "to": "2027-01-01T00:00:00+05:00"},
    ).json()
    assert datetime.fromisoformat(statement["complete_until"]) == watermark


def test_given_coarse_cursors_when_reading_then_data_and_truth_share_rounded_times(caller: Any) -> None:
    _set(caller, {"coarse_cursors": {"seconds": 3600}})
    token = caller.get("/cards").json()["items"][0]["card_token"]
    items = caller.statement(
        card_token=token,
        **{"from": "2026-01-01T00:00:00+05:00", "to": "2026-11-02T00:00:00+05:00"},
        page=0,
        page_size=1000,
    ).json()["items"]
    times = [datetime.fromisoformat(item["occurred_at"]) for item in items]
    assert times
    assert all(moment.minute == 0 and moment.second == 0 for moment in times)
    assert times == sorted(times)
    truth = caller.client.get("/_sandbox/truth/card_transactions", params={"phone": caller.phone}).text
    assert items[0]["occurred_at"] in truth


def test_given_a_time_when_rounded_down_then_the_offset_is_kept() -> None:
    assert coarse_instant("2026-11-01T10:31:07+05:00", 600) == "2026-11-01T10:30:00+05:00"
