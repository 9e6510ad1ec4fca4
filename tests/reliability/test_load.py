"""Volume and concurrency: a million card transactions, and ten customers syncing at once.

Large runs keep only a digest per record (``collect="digest"``) so the test process stays small
while still comparing every field with the truth. Figures (records/s, peak RSS of the connector
process) go to the summary table; the speed targets themselves belong to the benchmark
(``bench/``), not to assertions here.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from trastpay_sandbox.testing import SandboxServer

from .harness import (
    CONNECTORS,
    Connector,
    RunResult,
    compare_with_truth,
    connectors_in_ci,
    report,
    run_connector,
)

STATE_EVERY = 10_000
RSS_BOUND_MB = 1024
"""Peak memory of one connector process; the performance issue's own target may be tighter."""


def _full_then_incremental(connector: Connector, transactions: int, tmp_path: Path, timeout: float) -> None:
    with SandboxServer(customers=1, transactions=transactions, history_days=120, seed=61) as sandbox:
        workdir = tmp_path / connector
        full = run_connector(
            connector,
            sandbox,
            workdir,
            streams=("card_transactions",),
            collect="digest",
            keep_stdout=False,
            timeout=timeout,
        )
        assert full.ok, full.output_text[-3000:]
        sandbox.advance("P1D")
        incremental = run_connector(
            connector,
            sandbox,
            workdir,
            streams=("card_transactions",),
            state=full.final_state,
            collect="digest",
            keep_stdout=False,
            timeout=timeout,
        )
        assert incremental.ok, incremental.output_text[-3000:]
        found = compare_with_truth(sandbox, "card_transactions", [full, incremental])
    gap = max(full.max_records_between_states, incremental.max_records_between_states)
    rate = full.record_count / full.wall_s
    peak = max(full.peak_rss_mb, incremental.peak_rss_mb)
    passed = found.ok and gap <= STATE_EVERY and peak <= RSS_BOUND_MB
    report(
        f"{transactions:,} card transactions, full then incremental",
        connector,
        2,
        passed,
        f"full {full.record_count:,} records in {full.wall_s:.1f} s ({rate:,.0f}/s), peak RSS "
        f"{full.peak_rss_mb:.0f} MB; incremental {incremental.record_count:,} in {incremental.wall_s:.1f} s, "
        f"peak RSS {incremental.peak_rss_mb:.0f} MB; lost {found.lost}, wrong after dedup "
        f"{found.wrong_after_dedup}; most records between states {gap:,}",
    )
    assert found.ok, found.examples
    assert gap <= STATE_EVERY, f"{gap} records without a state message"
    assert peak <= RSS_BOUND_MB, f"peak RSS {peak:.0f} MB"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("connector", connectors_in_ci("singer"))
def test_given_50k_transactions_when_syncing_full_then_incremental_then_nothing_lost_or_duplicated(
    connector: Connector, tmp_path: Path
) -> None:
    _full_then_incremental(connector, 50_000, tmp_path, timeout=400)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("connector", CONNECTORS)
def test_given_a_million_transactions_when_syncing_full_then_incremental_then_nothing_lost_or_duplicated(
    connector: Connector, tmp_path: Path
) -> None:
    _full_then_incremental(connector, 1_000_000, tmp_path, timeout=3000)


@pytest.fixture(scope="module")
def ten_customers() -> Iterator[SandboxServer]:
    with SandboxServer(customers=10, history_days=30, seed=62) as server:
        yield server


@pytest.mark.timeout(600)
@pytest.mark.parametrize("connector", connectors_in_ci("singer"))
def test_given_ten_customers_syncing_at_once_when_done_then_each_got_only_its_own_records(
    ten_customers: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    streams = ("cards", "card_transactions", "transfers")
    customers = ten_customers.customers()
    phones = [str(c["phone"]) for c in customers]

    def sync(index: int) -> RunResult:
        return run_connector(
            connector, ten_customers, tmp_path / f"customer-{index}", streams=streams, phone=phones[index]
        )

    with ThreadPoolExecutor(max_workers=len(phones)) as pool:
        results = list(pool.map(sync, range(len(phones))))
    failed = [i for i, r in enumerate(results) if not r.ok]
    lost = wrong = 0
    foreign = 0
    for customer, result in zip(customers, results, strict=True):
        own_cards = {card["card_token"] for card in customer["cards"]}
        foreign += sum(
            1 for r in result.records.get("card_transactions", []) if r["card_token"] not in own_cards
        )
        for stream in streams[1:]:
            found = compare_with_truth(ten_customers, stream, [result])
            lost += found.lost
            wrong += found.wrong_after_dedup
    isolated = True
    if connector == "singer":
        stores = [r.token_store_path for r in results]
        isolated = len({str(p) for p in stores}) == len(stores) and all(
            p is not None and p.exists() and stat.S_IMODE(p.stat().st_mode) == 0o600 for p in stores
        )
        tokens = {p.read_text(encoding="utf-8") for p in stores if p is not None}
        isolated = isolated and len(tokens) == len(stores)
    else:
        tokens = {r.control_configs[-1]["refresh_token"] for r in results if r.control_configs}
        isolated = len(tokens) == len(results)
    walls = [r.wall_s for r in results]
    passed = not failed and foreign == 0 and lost == 0 and wrong == 0 and isolated
    report(
        "10 concurrent syncs, 10 customers, one sandbox",
        connector,
        len(results),
        passed,
        f"{len(results) - len(failed)}/{len(results)} succeeded, "
        f"{sum(r.record_count for r in results)} records, "
        f"foreign records {foreign}, lost {lost}, wrong after dedup {wrong}, "
        f"{'token stores' if connector == 'singer' else 'published tokens'} distinct: {isolated}; "
        f"wall {min(walls):.1f}-{max(walls):.1f} s",
    )
    assert not failed, results[failed[0]].output_text[-3000:] if failed else ""
    assert foreign == 0
    assert (lost, wrong) == (0, 0)
    assert isolated
