"""``make bench``: records/s, CPU, peak RSS and start-up of both connectors against two ceilings.

For each size (card transactions of one sandbox customer) it starts a sandbox, warms its cache
with one untimed pass over every card, picks the card with the most records, then runs each
client as a subprocess (at least 3 runs, medians) reading that card at page_size 1000, its
output drained and counted by this process (see ``measure``). The same card is then recorded and
read again from a static replay server (``replay``: the raw ceiling there measures the client, not
the sandbox), and each connector reads every card of the world once (peak RSS). A multi-card
scenario (one customer, ~200,000 transactions over all its cards) is measured the same way from
both servers; start-up of every command (``startup``) and the no-op incremental
(``incremental``) complete the run. It prints each table and each target of issues 6 and 19 with
its figure and verdict, and writes ``docs/performance.md``.

    .venv/bin/python bench/run.py [--sizes 100000,1000000] [--runs 3] [--quick] [--latency]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import incremental
import latency
import orjson
import startup
import targets
import urllib3
from bench_clients import (
    AIRBYTE_BASELINE,
    CLIENT_ID,
    CLIENTS,
    EVERY_CARD,
    RAW,
    SINGER_BASELINE,
    SOURCE,
    TAP,
    VENV_BIN,
    Client,
    airbyte_catalog,
    bytecode_cache,
    connector_config,
    singer_catalog,
)
from measure import Result, run_client
from replay import ReplayTarget, record_in_child, replay_server
from report import Table, print_table, print_targets, write_markdown

from trastpay_sandbox.testing import SandboxServer

EARLY = "2000-01-01"
FROM = "2000-01-01T00:00:00+05:00"
TO = "2100-01-01T00:00:00+05:00"
BASELINES = {SOURCE.name: AIRBYTE_BASELINE.name, TAP.name: SINGER_BASELINE.name}


def warm(sandbox: SandboxServer) -> dict[str, int]:
    """One untimed pass over every card (fills the sandbox's cache); answers records per card."""
    phone = sandbox.customers()[0]["phone"]
    tokens = sandbox.login(phone, device_id="dev-bench-warm", scopes=["cards:read", "statements:read"])
    headers = {
        "Authorization": f"Bearer {tokens['access_token']}",
        "X-Device-Id": "dev-bench-warm",
        "Content-Type": "application/json",
    }
    url = urlsplit(sandbox.api_url)
    pool = urllib3.HTTPConnectionPool(
        url.hostname or "127.0.0.1", url.port, maxsize=1, retries=False, timeout=300
    )
    cards_answer = pool.urlopen("GET", url.path + "/cards?page_size=1000", headers=headers)
    counts: dict[str, int] = {}
    for card in (item["card_token"] for item in orjson.loads(cards_answer.data)["items"]):
        page: int | None = 1  # statement pages are 1-based (the contract)
        counts[card] = 0
        while page is not None:
            body = orjson.dumps({"card_token": card, "from": FROM, "to": TO, "page": page, "page_size": 1000})
            answer = pool.urlopen("POST", url.path + "/statement", body=body, headers=headers)
            if answer.status != 200:
                raise SystemExit(f"warm-up of {card[:6]}…: HTTP {answer.status}: {answer.data[:200]!r}")
            document: dict[str, Any] = orjson.loads(answer.data)
            counts[card] += len(document["items"])
            page = document["next_page"]
    pool.close()
    return counts


def discover_tap(sandbox: SandboxServer, workdir: Path, card: str) -> None:
    """Write the tap's catalog (card_transactions selected) and the source's configured catalog."""
    config = workdir / "discover-config.json"
    config.write_text(json.dumps(connector_config(sandbox, workdir, card, EARLY)), encoding="utf-8")
    command = [str(VENV_BIN / "tap-trastpay"), "--config", str(config), "--discover"]
    answer = subprocess.run(command, capture_output=True, check=False)
    if answer.returncode != 0:
        raise SystemExit(f"tap-trastpay --discover failed:\n{answer.stderr.decode()[-2000:]}")
    singer_catalog(json.loads(answer.stdout), workdir)
    airbyte_catalog(workdir)


def measure_clients(
    server: Any, workdir: Path, card: str, runs: int, clients: tuple[Client, ...]
) -> list[Result]:
    """Each client ``runs`` times reading ``card`` (or every card) from ``server``; medians per client."""
    results: list[Result] = []
    for client in clients:
        result = Result(client.name)
        for _ in range(runs):
            launch = client.prepare(server, workdir, card, EARLY)
            result.runs.append(run_client(launch.command, launch.markers))
        print(f"   {client.name}: {result.records:,} records, {result.records_per_s:,.0f} records/s, "
              f"{result.records_per_cpu_s:,.0f} records/CPU s "
              f"(runs: {', '.join(f'{r.records / r.wall_s:,.0f}' for r in result.runs)}), "
              f"{result.peak_rss_mb:.0f} MB", flush=True)  # fmt: skip
        results.append(result)
    return results


def replayed(sandbox: SandboxServer, workdir: Path, cards: list[str]) -> tuple[Path, dict[str, Any]]:
    """Record ``cards`` from the sandbox (in a child process); the file and the recorded refresh answer."""
    device_id = "dev-bench-recorder"
    tokens = sandbox.login(sandbox.customers()[0]["phone"], device_id=device_id, client_id=CLIENT_ID)
    began = time.perf_counter()
    path = workdir / "replay.pickle"
    refresh = record_in_child(sandbox.api_url, tokens, device_id, CLIENT_ID, cards, path)
    print(f"   recorded {len(cards)} card(s) in {time.perf_counter() - began:.1f} s", flush=True)
    return path, refresh


def measure_replay(
    recorded: tuple[Path, dict[str, Any]], workdir: Path, card: str, runs: int, table: Table, title: str
) -> Table:
    """The connectors and the raw client reading ``card`` from the replay server."""
    recording, refresh = recorded
    with replay_server(recording) as api_url:
        print(f"   -- {title}", flush=True)
        results = measure_clients(ReplayTarget(api_url, refresh), workdir, card, runs, (RAW, SOURCE, TAP))
    return Table(table.transactions, table.card_records, results, title=title)


def measure_size(
    transactions: int, runs: int, clients: tuple[Client, ...], facts: targets.Issue19, startup_runs: int
) -> list[Table]:
    """Start a sandbox of ``transactions`` card operations and measure every client on it."""
    began = time.perf_counter()
    with (
        SandboxServer(customers=1, transactions=transactions) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        workdir = Path(tmp)
        print(
            f"\n== {transactions:,} transactions: sandbox up in {time.perf_counter() - began:.1f} s",
            flush=True,
        )
        counts = warm(sandbox)
        card = max(counts, key=lambda token: counts[token])
        print(f"   warmed {sum(counts.values()):,} records on {len(counts)} cards; reading the largest card "
              f"({counts[card]:,} records)", flush=True)  # fmt: skip
        discover_tap(sandbox, workdir, card)
        table = Table(transactions, counts[card], measure_clients(sandbox, workdir, card, runs, clients))
        tables = [table]
        for client in (SOURCE, TAP):
            launch = client.prepare(sandbox, workdir, EVERY_CARD, EARLY)
            run = run_client(launch.command, launch.markers)
            facts.every_card[(transactions, client.name)] = run
            figures = f"peak RSS {run.peak_rss_mb:.0f} MB, CPU {run.cpu_s:.1f} s, wall {run.wall_s:.1f} s"
            print(f"   {client.name}, every card: {run.records:,} records, {figures}", flush=True)
        replay = measure_replay(
            replayed(sandbox, workdir, [card]), workdir, card, runs, table, "largest card, replay"
        )
        tables.append(replay)
        if not facts.startup and startup_runs:
            facts.startup = startup.measure(sandbox, startup_runs)
            for line in startup.lines(facts.startup):
                print(f"   {line}", flush=True)
    return tables


def measure_multi_card(transactions: int, runs: int, facts: targets.Issue19) -> list[Table]:
    """One customer, ``transactions`` card operations over all its cards: every card, sandbox and replay."""
    with (
        SandboxServer(customers=1, transactions=transactions) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        workdir = Path(tmp)
        counts = warm(sandbox)
        total = sum(counts.values())
        print(
            f"\n== multi-card: {transactions:,} transactions, {total:,} records on {len(counts)} cards",
            flush=True,
        )
        discover_tap(sandbox, workdir, EVERY_CARD)
        title = f"{facts.multi_card_title} ({len(counts)} cards)"
        table = Table(
            transactions, total, measure_clients(sandbox, workdir, EVERY_CARD, runs, (RAW, SOURCE, TAP))
        )
        table.title = f"{title}, sandbox"
        recording = replayed(sandbox, workdir, list(counts))
        replay = measure_replay(recording, workdir, EVERY_CARD, runs, table, f"{title}, replay")
    return [table, replay]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated transaction counts")
    parser.add_argument("--runs", type=int, default=3, help="runs per client (median; at least 3)")
    parser.add_argument(
        "--only", default="", help="comma-separated words; run only clients whose name has one"
    )
    parser.add_argument(
        "--cold-imports", action="store_true", help="no bytecode cache: every process compiles its imports"
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="also run the latency-bound scenario and the no-op incremental over 50 cards",
    )
    parser.add_argument(
        "--noop", action="store_true", help="run the no-op incremental over 50 cards (--latency includes it)"
    )
    parser.add_argument("--quick", action="store_true", help="20,000 transactions only")
    parser.add_argument(
        "--multi-card",
        type=int,
        default=200_000,
        help="transactions of the multi-card scenario (one customer, every card); 0 skips it",
    )
    parser.add_argument("--startup-runs", type=int, default=11, help="cold runs per command for start-up")
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "performance.md"
    )
    args = parser.parse_args()
    try:
        sizes = [20_000] if args.quick else [int(size.replace("_", "")) for size in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    if args.runs < 3:
        parser.error("--runs must be at least 3 (the table reports medians)")
    cache = bytecode_cache(not args.cold_imports)
    print(f"bytecode cache: {cache}", flush=True)
    words = [word.strip() for word in args.only.split(",") if word.strip()]
    chosen = tuple(c for c in CLIENTS if c is RAW or not words or any(w in c.name for w in words))
    facts = targets.Issue19(raw=RAW.name)
    tables = [
        table for size in sizes for table in measure_size(size, args.runs, chosen, facts, args.startup_runs)
    ]
    if args.multi_card:
        tables += measure_multi_card(args.multi_card, args.runs, facts)
    facts.tables = tables
    scenarios: list[str] = []
    if args.latency:
        scenarios.append(latency.summary(latency.scenario(183, 100, 100_000), 100))
    if args.latency or args.noop:
        noop_lines, facts.noop_wall_s = incremental.measure(3)
        scenarios += noop_lines
    for table in tables:
        print_table(table, raw=RAW.name, baselines=BASELINES)
    print_targets(tables, raw=RAW.name, baselines=BASELINES)
    targets.print_verdicts(facts)
    write_markdown(
        args.output,
        tables,
        raw=RAW.name,
        baselines=BASELINES,
        argv=sys.argv[1:],
        cache=cache,
        scenarios=scenarios,
        sections=targets.markdown(facts),
    )
    if scenarios:
        print("\n" + "\n".join(scenarios))
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
