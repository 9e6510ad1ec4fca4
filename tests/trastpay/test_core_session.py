"""Session: partitions, reads with checkpoints after each page, windows, future state, check()."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
import requests
import responses

from trastpay import session as session_module
from trastpay.errors import AuthError, ConfigError, ConnectionFailed, PayloadError, ReauthRequired, StateError
from trastpay.session import Checkpoint, Partition, TrastpaySession
from trastpay.streams import get_stream

from .builders import (
    BASE_URL,
    NOW,
    REFRESH_URL,
    VALID_PAN,
    at,
    card,
    card_transaction,
    config,
    list_page,
    list_request,
    problem,
    quiet_session,
    read_all,
    statement_request,
    token_answer,
    transfer,
)


def _query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def _data_calls(api: responses.RequestsMock) -> list[Any]:
    return [c for c in api.calls if c.request.url != REFRESH_URL]


def test_given_two_pages_when_reading_list_then_records_then_checkpoint_after_each_page(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/transfers", json=list_page([transfer(1, at(-3)), transfer(2, at(-2))], "tok2"))
    api.get(f"{BASE_URL}/transfers", json=list_page([transfer(3, at(-1))], None))
    items = read_all(quiet_session(), "transfers", Partition(None, {}), None)
    assert [i["id"] if isinstance(i, dict) else i for i in items] == [
        "trf_000001",
        "trf_000002",
        Checkpoint(at(-2)),
        "trf_000003",
        Checkpoint(at(-1)),
    ]
    first, second = (_query(c) for c in _data_calls(api))
    assert first == list_request("2026-01-01T00:00:00+05:00")
    assert second == list_request("2026-01-01T00:00:00+05:00", page_token="tok2")


def test_given_cursor_and_lookback_when_reading_then_since_is_cursor_minus_lookback(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/transfers", json=list_page([], None))
    items = read_all(
        quiet_session(lookback_days=2), "transfers", Partition(None, {}), "2026-03-05T10:00:00+05:00"
    )
    assert items == [Checkpoint("2026-03-05T10:00:00+05:00")]
    assert _query(_data_calls(api)[0])["since"] == ["2026-03-03T10:00:00+05:00"]


def test_given_lookback_rereads_older_records_when_checkpointing_then_never_moves_backwards(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/transfers", json=list_page([transfer(1, at(-5)), transfer(2, at(-4))], None))
    items = read_all(quiet_session(lookback_days=7), "transfers", Partition(None, {}), at(-1))
    assert items[-1] == Checkpoint(at(-1))


def test_given_equal_cursors_across_pages_when_reading_then_checkpoint_is_that_cursor_and_no_record_lost(
    api: responses.RequestsMock,
) -> None:
    same = at(-1)
    api.get(f"{BASE_URL}/transfers", json=list_page([transfer(1, same), transfer(2, same)], "t2"))
    api.get(f"{BASE_URL}/transfers", json=list_page([transfer(3, same)], None))
    items = read_all(quiet_session(), "transfers", Partition(None, {}), None)
    records = [i for i in items if isinstance(i, dict)]
    assert len(records) == 3
    assert [i for i in items if isinstance(i, Checkpoint)] == [Checkpoint(same), Checkpoint(same)]


def test_given_future_cursor_when_reading_then_no_request_and_cursor_unchanged(
    api: responses.RequestsMock,
) -> None:
    future = at(3)
    items = read_all(quiet_session(), "transfers", Partition(None, {}), future)
    assert items == [Checkpoint(future)]
    assert _data_calls(api) == []


def test_given_malformed_cursor_when_reading_then_state_error_names_stream(
    api: responses.RequestsMock,
) -> None:
    with pytest.raises(StateError, match="'transfers'"):
        read_all(quiet_session(), "transfers", Partition(None, {}), "not a time")


def test_given_statement_stream_when_reading_then_posts_window_with_settlement_lag_and_pages(
    api: responses.RequestsMock,
) -> None:
    api.post(f"{BASE_URL}/statement", json={"items": [card_transaction(1, at(-9))], "next_page": 2})
    api.post(f"{BASE_URL}/statement", json={"items": [card_transaction(2, at(-8))], "next_page": None})
    cursor = "2026-03-08T12:00:00+05:00"
    session = quiet_session(lookback_days=1, settlement_lag_days=7)
    items = read_all(session, "card_transactions", Partition("crd_A1", {"card_token": "crd_A1"}), cursor)
    bodies = [orjson.loads(c.request.body) for c in _data_calls(api)]
    window = ("crd_A1", "2026-02-28T12:00:00+05:00", "2026-03-10T12:00:01+05:00")
    assert bodies == [statement_request(*window, page=1), statement_request(*window, page=2)]
    assert items[-1] == Checkpoint(cursor)


def test_given_full_pan_in_api_answer_when_reading_then_record_is_masked(api: responses.RequestsMock) -> None:
    api.get(f"{BASE_URL}/transfers", json=list_page([transfer(1, at(-1), receiver_pan_masked=VALID_PAN)]))
    items = read_all(quiet_session(), "transfers", Partition(None, {}), None)
    assert VALID_PAN not in str(items)
    assert items[0]["receiver_pan_masked"] == "860030******6312"


def test_given_bad_next_page_when_reading_then_payload_error(api: responses.RequestsMock) -> None:
    api.get(f"{BASE_URL}/transfers", json=list_page([], 17))
    with pytest.raises(PayloadError, match="next_page"):
        read_all(quiet_session(), "transfers", Partition(None, {}), None)


def test_given_answer_without_items_when_reading_then_payload_error_names_stream(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/transfers", json={"data": []})
    with pytest.raises(PayloadError, match="'transfers'"):
        read_all(quiet_session(), "transfers", Partition(None, {}), None)


def test_given_full_refresh_stream_when_reading_then_all_items_and_a_null_checkpoint(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/cards", json=list_page([card("crd_A1"), card("crd_B2")]))
    items = read_all(quiet_session(), "cards", Partition(None, {}), None)
    assert [i["card_token"] for i in items[:2]] == ["crd_A1", "crd_B2"]
    assert items[2] == Checkpoint(None)


def test_given_cards_when_listing_partitions_then_one_per_card_token(api: responses.RequestsMock) -> None:
    api.get(f"{BASE_URL}/cards", json=list_page([card("crd_A1"), card("crd_B2")]))
    partitions = list(quiet_session().partitions(get_stream("card_transactions")))
    assert partitions == [
        Partition("crd_A1", {"card_token": "crd_A1"}),
        Partition("crd_B2", {"card_token": "crd_B2"}),
    ]


def test_given_two_card_streams_when_listing_partitions_then_cards_listed_once_per_session(
    api: responses.RequestsMock,
) -> None:
    listing = api.get(f"{BASE_URL}/cards", json=list_page([card("crd_A1"), card("crd_B2")]))
    session = quiet_session()
    transactions = list(session.partitions(get_stream("card_transactions")))
    statements = list(session.partitions(get_stream("statements")))
    assert [p.key for p in transactions] == [p.key for p in statements] == ["crd_A1", "crd_B2"]
    assert listing.call_count == 1


def test_given_card_allow_list_when_listing_partitions_then_only_those_cards(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/cards", json=list_page([card("crd_A1"), card("crd_B2")]))
    partitions = list(quiet_session(card_tokens=["crd_B2"]).partitions(get_stream("statements")))
    assert [p.key for p in partitions] == ["crd_B2"]


def test_given_allow_listed_card_not_linked_when_listing_then_config_error_names_card_tokens(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/cards", json=list_page([card("crd_A1")]))
    with pytest.raises(ConfigError) as caught:
        list(quiet_session(card_tokens=["crd_Z9"]).partitions(get_stream("card_transactions")))
    assert caught.value.field == "card_tokens"
    assert "crd_Z9" in str(caught.value)


def test_given_paged_loans_when_listing_schedule_partitions_then_every_loan_id(
    api: responses.RequestsMock,
) -> None:
    loan = {"updated_at": at(-1)}
    api.get(f"{BASE_URL}/microloan", json=list_page([{"id": "ln_1", **loan}], "p2"))
    api.get(f"{BASE_URL}/microloan", json=list_page([{"id": "ln_2", **loan}, {"id": "ln_1", **loan}], None))
    partitions = list(quiet_session().partitions(get_stream("microloan_schedules")))
    assert partitions == [Partition("ln_1", {"loan_id": "ln_1"}), Partition("ln_2", {"loan_id": "ln_2"})]


def test_given_partitioned_stream_when_reading_then_parent_id_fills_the_path(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/deposits/dep_1/operations", json=list_page([], None))
    read_all(quiet_session(), "deposit_operations", Partition("dep_1", {"deposit_id": "dep_1"}), None)
    assert urlsplit(_data_calls(api)[0].request.url).path.endswith("/deposits/dep_1/operations")


def test_given_unpartitioned_stream_when_listing_partitions_then_single_none_partition() -> None:
    assert list(quiet_session().partitions(get_stream("transfers"))) == [Partition(None, {})]


def test_given_healthy_api_when_checking_then_refreshes_and_reads_cards(api: responses.RequestsMock) -> None:
    api.get(f"{BASE_URL}/cards", json=list_page([]))
    quiet_session().check()
    assert [str(c.request.url).split("/")[-1] for c in api.calls] == ["refresh", "cards"]


def test_given_unreachable_host_when_checking_then_error_names_base_url() -> None:
    with responses.RequestsMock() as mock:
        mock.post(REFRESH_URL, body=requests.ConnectTimeout("connect timeout"))
        with pytest.raises(ConnectionFailed, match=r"127\.0\.0\.1:8765/api/v1/trastpay"):
            quiet_session().check()


def test_given_wrong_device_when_checking_then_auth_error_names_device_id() -> None:
    with responses.RequestsMock() as mock:
        mock.post(REFRESH_URL, status=401, json=problem(401, "device-mismatch"))
        with pytest.raises(AuthError, match="device_id"):
            quiet_session().check()


def test_given_revoked_family_when_checking_then_reauth_required_says_log_in_again() -> None:
    with responses.RequestsMock() as mock:
        mock.post(REFRESH_URL, status=401, json=problem(401, "refresh-token-reused"))
        with pytest.raises(ReauthRequired, match="trastpay auth login"):
            quiet_session().check()


def test_given_server_date_ahead_of_local_clock_when_reading_then_cursor_is_not_treated_as_future() -> None:
    with responses.RequestsMock() as mock:
        mock.post(REFRESH_URL, json=token_answer(1), headers={"Date": "Sat, 14 Mar 2026 07:00:00 GMT"})
        mock.get(f"{BASE_URL}/transfers", json=list_page([], None))
        cursor = at(2)  # after the local clock (NOW) but before the server's 12:00 Tashkent, Mar 14
        items = read_all(quiet_session(), "transfers", Partition(None, {}), cursor)
        assert items == [Checkpoint(cursor)]
        assert len(mock.calls) == 2


def test_given_card_allow_list_when_reading_cards_then_only_allowed_cards(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/cards", json=list_page([card("crd_A1"), card("crd_B2")]))
    items = read_all(quiet_session(card_tokens=["crd_B2"]), "cards", Partition(None, {}), None)
    assert [i["card_token"] for i in items if isinstance(i, dict)] == ["crd_B2"]


def test_given_lost_refresh_answer_when_checking_then_same_token_resent_once_and_check_passes() -> None:
    with responses.RequestsMock() as mock:
        mock.post(REFRESH_URL, body=requests.ConnectionError("reset after send"))
        mock.post(REFRESH_URL, json=token_answer(1))
        mock.get(f"{BASE_URL}/cards", json=list_page([]))
        session = TrastpaySession(
            config(), on_rotate=lambda token: None, clock=lambda: NOW, sleep=lambda s: None
        )
        session.check()
        sent = [
            orjson.loads(c.request.body or b"")["refresh_token"]
            for c in mock.calls
            if c.request.url == REFRESH_URL
        ]
        assert sent == ["rt_initial_SECRET_0001", "rt_initial_SECRET_0001"]


def test_given_partitions_read_in_parallel_when_syncing_then_one_login_and_every_record(
    api: responses.RequestsMock,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    tokens = [f"crd_P{n}" for n in range(6)]
    api.get(f"{BASE_URL}/cards", json=list_page([card(t) for t in tokens]))
    api.post(
        f"{BASE_URL}/statement",
        json={"items": [card_transaction(1, at(-1))], "next_page": None},
    )
    session = quiet_session(max_concurrency=4, requests_per_second=1000)
    stream = get_stream("card_transactions")
    partitions = list(session.partitions(stream))

    def read(partition: Partition) -> list[Any]:
        return list(session.read(stream, partition, None))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(read, partitions))
    assert [len(r) for r in results] == [2] * 6
    assert len([c for c in api.calls if c.request.url == REFRESH_URL]) == 1
    bodies = sorted(orjson.loads(c.request.body)["card_token"] for c in _data_calls(api) if c.request.body)
    assert bodies == tokens


def _paged_statement(api: responses.RequestsMock, pages: int) -> list[str]:
    """Serve ``pages`` statement pages of one record each; answers which thread fetched each page."""
    fetched_by: list[str] = []

    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        page = orjson.loads(request.body)["page"]  # 1-based
        fetched_by.append(threading.current_thread().name)
        following = page + 1 if page < pages else None
        body = {"items": [card_transaction(page, at(-10 + page))], "next_page": following}
        return 200, {}, orjson.dumps(body)

    api.add_callback(responses.POST, f"{BASE_URL}/statement", callback=answer)
    return fetched_by


def test_given_a_one_partition_plan_when_reading_then_its_pages_come_from_a_read_ahead_thread_in_order(
    api: responses.RequestsMock,
) -> None:
    partition = Partition("crd_A1", {"card_token": "crd_A1"})
    stream = get_stream("card_transactions")
    fetched_by = _paged_statement(api, pages=3)
    inline = quiet_session(max_concurrency=1)
    inline.read_ahead(stream, [(partition, None)])
    expected = list(inline.read(stream, partition, None))
    assert fetched_by == ["MainThread"] * 3  # max_concurrency 1: no thread

    fetched_by.clear()
    session = quiet_session(max_concurrency=2)
    session.read_ahead(stream, [(partition, None)])
    items = list(session.read(stream, partition, None))
    assert items == expected
    assert [type(item).__name__ for item in items] == ["dict", "Checkpoint"] * 3
    assert len(fetched_by) == 3
    assert all(name.startswith("trastpay-read-ahead-") for name in fetched_by)


def test_given_a_re_read_that_moves_no_cursor_when_reading_then_every_so_many_records_a_forced_checkpoint(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "STATE_EVERY_RECORDS", 3)
    saved = at(-1)
    older = at(-2)
    for page in range(4):
        api.get(
            f"{BASE_URL}/transfers",
            json=list_page(
                [transfer(2 * page, older), transfer(2 * page + 1, older)],
                f"p{page + 1}" if page < 3 else None,
            ),
        )

    items = read_all(quiet_session(), "transfers", Partition(None, {}), saved)

    checkpoints = [i for i in items if isinstance(i, Checkpoint)]
    # 2 records, then 4 (forced, counter restarts), then 2, then 4 (forced again)
    assert checkpoints == [
        Checkpoint(saved),
        Checkpoint(saved, forced=True),
        Checkpoint(saved),
        Checkpoint(saved, forced=True),
    ]


def test_given_a_cursor_that_moves_when_reading_then_the_forced_count_restarts(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "STATE_EVERY_RECORDS", 3)
    api.get(f"{BASE_URL}/transfers", json=list_page([transfer(1, at(-3)), transfer(2, at(-3))], "p1"))
    api.get(f"{BASE_URL}/transfers", json=list_page([transfer(3, at(-2)), transfer(4, at(-2))], "p2"))
    api.get(f"{BASE_URL}/transfers", json=list_page([transfer(5, at(-2))], None))

    items = read_all(quiet_session(), "transfers", Partition(None, {}), None)

    checkpoints = [i for i in items if isinstance(i, Checkpoint)]
    assert checkpoints == [Checkpoint(at(-3)), Checkpoint(at(-2)), Checkpoint(at(-2))]


def test_given_a_malformed_posted_at_when_reading_card_operations_then_a_payload_error_names_the_fields(
    api: responses.RequestsMock,
) -> None:
    record = card_transaction(1, at(-9))
    record["posted_at"] = "yesterday"
    api.post(f"{BASE_URL}/statement", json={"items": [record], "next_page": None})
    with pytest.raises(PayloadError, match=r"partition crd_A1\): field 'posted_at' or 'reversed_at'"):
        read_all(quiet_session(), "card_transactions", Partition("crd_A1", {"card_token": "crd_A1"}), None)
