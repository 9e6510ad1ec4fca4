"""CPU per record of the core's per-page path, stage by stage, against the record-by-record reference.

Pages of ``card_transactions`` (1,000 records each, as the sandbox serves them) are built in-process
from the sandbox world (no server, no network), then each stage of what
``TrastpaySession.read_pages`` does with a fetched page body is timed over every page, fast path
and reference path in the same run (medians of ``--runs``, CPU time of this process):

- ``page``: the body parsed (``orjson``) and checked for card numbers (``might_hold_pan``);
- ``progress``: ``PageProgress.check`` (pagination proves progress);
- ``records``: ``RecordProcessor.process_page`` / ``process`` for each record;
- ``cursor``: ``CursorTracker.observe_all``;
- ``late``: ``LateFinder.scan`` with a saved cursor in the middle of the pages (the re-read window);
- ``completeness``: ``SyncAudit.observe_card_operations`` (page columns / record by record);
- ``session``: everything above through ``read_pages`` with a stand-in client serving the bodies.

    .venv/bin/python bench/core_hotpath.py [--transactions 40000] [--pages 12] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trastpay.client import ApiPage
from trastpay.completeness import PartitionAudit, SyncAudit
from trastpay.config import TrastpayConfig, parse_config
from trastpay.cursors import TASHKENT, CursorTracker
from trastpay.http import _json_object
from trastpay.masking import _might_hold_pan_reference, might_hold_pan
from trastpay.records import RecordProcessor
from trastpay.session import PageProgress, Partition, TrastpaySession
from trastpay.streams import get_stream
from trastpay.watermark import LateFinder
from trastpay_sandbox.world import SandboxSettings, World

STREAM = get_stream("card_transactions")
NOW = datetime(2026, 11, 1, 12, tzinfo=TASHKENT)
WATERMARK = b"2026-11-01T12:00:00+05:00"


def sandbox_pages(transactions: int, pages: int) -> tuple[str, list[bytes]]:
    """Statement answers of the busiest card of a one-customer world, as the sandbox sends them."""
    world = World(SandboxSettings(customers=1, transactions=transactions))
    customer = world.customers()[0].id
    start, end = datetime(2000, 1, 1, tzinfo=TASHKENT), datetime(2100, 1, 1, tzinfo=TASHKENT)
    counts = {
        card["card_token"]: len(
            orjson.loads(world.statement_page(customer, card["card_token"], start, end, 0, 5000)[0])
        )
        for card in world.cards(customer)
    }
    card = max(counts, key=lambda token: counts[token])
    bodies = []
    for number in range(pages):
        items, following = world.statement_page(customer, card, start, end, number, 1000)
        last = following is None or number == pages - 1
        tail = b"null" if last else b"%d" % (number + 2)
        bodies.append(
            b'{"items":' + items + b',"next_page":' + tail + b',"complete_until":"' + WATERMARK + b'"}'
        )
        if last:
            break
    return card, bodies


class ServedPages:
    """The session's only collaborator: answers each statement page from the recorded bodies,
    parsed and checked as ``TrastpayClient.post_page`` does."""

    server_time = None

    def __init__(self, bodies: list[bytes]) -> None:
        self.bodies = bodies

    def ensure_login(self) -> str:
        return "at_bench"

    def post_page(self, path: str, body: dict[str, Any], *, scope: str | None = None) -> ApiPage:
        content = self.bodies[max(int(body["page"]) - 1, 0)]
        return ApiPage(_json_object(content, "POST", path, 200), not might_hold_pan(content), 0)

    def close(self) -> None:
        pass


def _reference_check(
    self: PageProgress, items: list[Any], payload: dict[str, Any], next_page: object
) -> None:
    """``PageProgress.check`` as it was: the page's keys gathered record by record in Python."""
    names = self._primary_key
    keys = frozenset(tuple(item.get(name) for name in names) for item in items if isinstance(item, dict))
    self._pages += 1
    if keys and keys <= self._previous:
        raise self._stuck("holds only records of the page before it")
    self._previous = keys


def _reference_page(
    self: RecordProcessor, items: list[Any], partition_value: str | None = None, *, pan_free: bool = False
) -> tuple[list[dict[str, Any]], None]:
    """``process_page`` as the session did it before: ``process`` per record, no columns (so the
    cursor tracker, the late finder and the bookings take their record-by-record paths too)."""
    return [self.process(item, partition_value, pan_free=pan_free) for item in items], None


STAGES = ("page", "progress", "records", "cursor", "late", "completeness")


def staged(
    card: str, bodies: list[bytes], config: TrastpayConfig, saved: str, reference: bool
) -> dict[str, float]:
    """CPU seconds per stage over every page, each stage timed right after the one before on
    the same page (as the session runs them: the page is still in the caches)."""
    spent = dict.fromkeys(STAGES, 0.0)
    processor = RecordProcessor(STREAM, config)
    process_page = partial(_reference_page, processor) if reference else processor.process_page
    holds_pan = _might_hold_pan_reference if reference else might_hold_pan
    progress = PageProgress(STREAM, card)
    check = partial(_reference_check, progress) if reference else progress.check
    tracker = CursorTracker(None)
    finder = LateFinder("occurred_at", saved)
    audit = PartitionAudit(STREAM.name, card, "incremental")
    sync = SyncAudit(NOW, check=True)
    clock = time.process_time
    for body in bodies:
        begin = clock()
        payload = _json_object(body, "POST", "/statement", 200)
        pan_free = not holds_pan(body)
        items = payload["items"]
        paged = clock()
        check(items, payload, None)
        checked = clock()
        records, columns = process_page(items, card, pan_free=pan_free)
        processed = clock()
        values = columns.values.get("occurred_at") if columns is not None else None
        tracker.observe_all(values if values is not None else [r["occurred_at"] for r in records])
        tracked = clock()
        finder.scan(records, audit, columns)
        scanned = clock()
        sync.observe_card_operations(card, records, columns)
        booked = clock()
        for stage, took in zip(
            STAGES,
            (
                paged - begin,
                checked - paged,
                processed - checked,
                tracked - processed,
                scanned - tracked,
                booked - scanned,
            ),
            strict=True,
        ):
            spent[stage] += took
    return spent


def session_cpu(card: str, bodies: list[bytes], config: TrastpayConfig, saved: str, reference: bool) -> float:
    """CPU seconds of one ``read_pages`` over every page (``reference``: the record-by-record paths)."""
    with ExitStack() as patches:
        if reference:
            patches.enter_context(_patched(RecordProcessor, "process_page", _reference_page))
            patches.enter_context(_patched(PageProgress, "check", _reference_check))
            patches.enter_context(
                _patched(sys.modules[__name__], "might_hold_pan", _might_hold_pan_reference)
            )
        client = ServedPages(bodies)
        reader = TrastpaySession(config, on_rotate=lambda grant: None, clock=lambda: NOW, client=client)  # type: ignore[arg-type]
        begin = time.process_time()
        for _ in reader.read_pages(STREAM, Partition(card, {"card_token": card}), saved):
            pass
        return time.process_time() - begin


@contextmanager
def _patched(owner: object, name: str, value: object) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


def bench_config() -> TrastpayConfig:
    return parse_config(
        {
            "base_url": "http://127.0.0.1:9/api/v1/trastpay",
            "client_id": "bench",
            "device_id": "dev-bench",
            "refresh_token": "rt_bench",
            "start_date": "2024-01-01",
            "max_concurrency": 1,
        },
        now=NOW,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=40_000, help="card transactions of the world")
    parser.add_argument("--pages", type=int, default=12, help="pages of 1,000 records to time")
    parser.add_argument("--runs", type=int, default=7, help="runs of each path (medians)")
    args = parser.parse_args()
    card, bodies = sandbox_pages(args.transactions, args.pages)
    records = sum(len(orjson.loads(body)["items"]) for body in bodies)
    config = bench_config()
    saved = str(orjson.loads(bodies[len(bodies) // 2])["items"][0]["occurred_at"])  # half the pages behind it
    fast_runs: list[dict[str, float]] = []
    reference_runs: list[dict[str, float]] = []
    fast_total: list[float] = []
    reference_total: list[float] = []
    for _ in range(args.runs):  # alternated, so both paths share the machine's load
        fast_runs.append(staged(card, bodies, config, saved, reference=False))
        reference_runs.append(staged(card, bodies, config, saved, reference=True))
        fast_total.append(session_cpu(card, bodies, config, saved, reference=False))
        reference_total.append(session_cpu(card, bodies, config, saved, reference=True))
    per_record = 1e6 / records
    print(
        f"{len(bodies)} pages, {records} records of card_transactions, saved cursor {saved} (half the pages"
    )
    print(f"behind it); CPU us per record, medians of {args.runs} alternated runs")
    print(f"{'stage':<14}{'fast':>8}{'reference':>11}{'ratio':>8}")
    fast_sum = reference_sum = 0.0
    for stage in STAGES:
        fast = statistics.median(run[stage] for run in fast_runs) * per_record
        reference = statistics.median(run[stage] for run in reference_runs) * per_record
        fast_sum, reference_sum = fast_sum + fast, reference_sum + reference
        print(f"{stage:<14}{fast:>8.2f}{reference:>11.2f}{reference / fast:>7.1f}x")
    print(f"{'sum':<14}{fast_sum:>8.2f}{reference_sum:>11.2f}{reference_sum / fast_sum:>7.1f}x")
    fast = statistics.median(fast_total) * per_record
    reference = statistics.median(reference_total) * per_record
    print(f"{'read_pages':<14}{fast:>8.2f}{reference:>11.2f}{reference / fast:>7.1f}x")


if __name__ == "__main__":
    main()
