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
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trastpay.client import ApiPage  # noqa: E402
from trastpay.completeness import PartitionAudit, SyncAudit  # noqa: E402
from trastpay.config import parse_config  # noqa: E402
from trastpay.cursors import TASHKENT, CursorTracker  # noqa: E402
from trastpay.http import _json_object  # noqa: E402
from trastpay.masking import _might_hold_pan_reference, might_hold_pan  # noqa: E402
from trastpay.records import RecordProcessor  # noqa: E402
from trastpay.session import PageProgress, Partition, TrastpaySession  # noqa: E402
from trastpay.streams import get_stream  # noqa: E402
from trastpay.watermark import LateFinder  # noqa: E402
from trastpay_sandbox.world import SandboxSettings, World  # noqa: E402

STREAM = get_stream("card_transactions")
NOW = datetime(2026, 11, 1, 12, tzinfo=TASHKENT)
WATERMARK = b"2026-11-01T12:00:00+05:00"


def sandbox_pages(transactions: int, pages: int) -> tuple[str, list[bytes]]:
    """Statement answers of the busiest card of a one-customer world, as the sandbox sends them."""
    world = World(SandboxSettings(customers=1, transactions=transactions))
    customer = world.customers()[0].id
    start, end = datetime(2000, 1, 1, tzinfo=TASHKENT), datetime(2100, 1, 1, tzinfo=TASHKENT)
    counts = {
        card["card_token"]: len(orjson.loads(world.statement_page(customer, card["card_token"], start, end, 0, 5000)[0]))
        for card in world.cards(customer)
    }
    card = max(counts, key=lambda token: counts[token])
    bodies = []
    for number in range(pages):
        items, following = world.statement_page(customer, card, start, end, number, 1000)
        last = following is None or number == pages - 1
        tail = b"null" if last else b"%d" % (number + 2)
        bodies.append(b'{"items":' + items + b',"next_page":' + tail + b',"complete_until":"' + WATERMARK + b'"}')
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


def cpu(run: Callable[[], object], prepare: Callable[[], Any] | None = None, runs: int = 5) -> float:
    """Median CPU seconds of ``run`` (``prepare`` untimed before each run, its result passed)."""
    spent = []
    for _ in range(runs):
        argument = prepare() if prepare is not None else None
        begin = time.process_time()
        run() if argument is None else run(argument)  # type: ignore[call-arg]
        spent.append(time.process_time() - begin)
    return statistics.median(spent)


def stages(card: str, bodies: list[bytes], runs: int) -> Iterator[tuple[str, float, float]]:
    """(stage, fast seconds, reference seconds) for every page together."""
    config = parse_config(
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

    def parsed() -> list[list[dict[str, Any]]]:
        return [orjson.loads(body)["items"] for body in bodies]

    yield (
        "page",
        cpu(lambda: [(_json_object(b, "POST", "/statement", 200), might_hold_pan(b)) for b in bodies], runs=runs),
        cpu(
            lambda: [(_json_object(b, "POST", "/statement", 200), _might_hold_pan_reference(b)) for b in bodies],
            runs=runs,
        ),
    )
    pages = parsed()
    progress = cpu(lambda: [PageProgress(STREAM, card).check(items, {}, None) for items in pages], runs=runs)
    yield "progress", progress, progress
    processor = RecordProcessor(STREAM, config)
    fast: list[Any] = []
    yield (
        "records",
        cpu(lambda p: fast.extend(processor.process_page(i, card, pan_free=True) for i in p), parsed, runs),
        cpu(lambda p: [[processor.process(r, card, pan_free=True) for r in i] for i in p], parsed, runs),
    )
    checked = [records for records, _ in fast[-len(bodies) :]]
    columns = [found for _, found in fast[-len(bodies) :]]
    cursors = [list(map(lambda r: r["occurred_at"], records)) for records in checked]
    tracked = cpu(lambda: [CursorTracker(None).observe_all(values) for values in cursors], runs=runs)
    yield "cursor", tracked, tracked
    saved = checked[len(checked) // 2][0]["occurred_at"]  # half the pages lie in the re-read window
    finder = LateFinder("occurred_at", saved)
    audit = PartitionAudit(STREAM.name, card, "incremental")
    late = cpu(lambda: [finder.scan(records, audit) for records in checked], runs=runs)
    yield "late", late, late
    yield (
        "completeness",
        cpu(
            lambda: [
                SyncAudit(NOW, check=True).observe_card_operations(card, records, found)
                for records, found in zip(checked, columns, strict=True)
            ],
            runs=runs,
        ),
        cpu(lambda: [SyncAudit(NOW, check=True).observe_card_operations(card, r) for r in checked], runs=runs),
    )

    def session() -> None:
        reader = TrastpaySession(config, on_rotate=lambda grant: None, clock=lambda: NOW, client=ServedPages(bodies))  # type: ignore[arg-type]
        for _ in reader.read_pages(STREAM, Partition(card, {"card_token": card}), "2025-01-01T00:00:00+05:00"):
            pass

    total = cpu(session, runs=runs)
    yield "session", total, float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=40_000, help="card transactions of the world")
    parser.add_argument("--pages", type=int, default=12, help="pages of 1,000 records to time")
    parser.add_argument("--runs", type=int, default=5, help="runs per stage (medians)")
    args = parser.parse_args()
    card, bodies = sandbox_pages(args.transactions, args.pages)
    records = sum(len(orjson.loads(body)["items"]) for body in bodies)
    print(f"{len(bodies)} pages, {records} records of card_transactions; CPU us per record, medians of {args.runs}")
    print(f"{'stage':<14}{'fast':>8}{'reference':>11}{'ratio':>8}")
    fast_sum = reference_sum = 0.0
    for name, fast, reference in stages(card, bodies, args.runs):
        fast_us, reference_us = fast / records * 1e6, reference / records * 1e6
        if name == "session":
            print(f"{'sum of stages':<14}{fast_sum:>8.2f}{reference_sum:>11.2f}{reference_sum / fast_sum:>7.1f}x")
            print(f"{'read_pages':<14}{fast_us:>8.2f}{'':>11}")
            continue
        fast_sum += fast_us
        reference_sum += reference_us
        print(f"{name:<14}{fast_us:>8.2f}{reference_us:>11.2f}{reference_us / fast_us:>7.1f}x")


if __name__ == "__main__":
    main()
