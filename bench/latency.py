"""Latency-bound scenario of issue 6 for ``source-trastpay read``: 100 ms latency, 20 requests/s.

The sandbox adds 100 ms to every data request and limits each access token to 20 requests/s
(429 + Retry-After beyond it). ``source-trastpay`` reads card_transactions of the 50 cards of one
customer over six months (``--history-days``), configured as a user who knows the limit would
(``requests_per_second`` 20); the sandbox's fault counters give the requests served and the 429s,
and the figure of merit is the process's wall time (start-up included) over the minimum the limit
allows (requests / 20). Page size 100 makes the run request-bound (about 1,000 requests), so
start-up is a small share of it.

    .venv/bin/python bench/latency.py [--history-days 183] [--page-size 100] [--transactions 100000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench_clients import EVERY_CARD, VENV_BIN, airbyte_catalog, bytecode_cache, connector_config
from measure import MESSAGES, run_client

from trastpay_sandbox.testing import SandboxServer

RATE = 20.0
LATENCY_MS = 100
CARDS = 50


def scenario(history_days: int, page_size: int, transactions: int | None) -> dict[str, float]:
    """Run the scenario once; answers its figures."""
    with (
        SandboxServer(
            customers=1, history_days=history_days, transactions=transactions, cards_per_customer=CARDS
        ) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        workdir = Path(tmp)
        config = connector_config(sandbox, workdir, EVERY_CARD, "2000-01-01")
        config["page_size"] = page_size
        config["requests_per_second"] = RATE
        config_path = workdir / "source-config.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        catalog = airbyte_catalog(workdir)
        sandbox.set_faults({"latency_ms": LATENCY_MS, "per_token_rps": RATE})
        command = [str(VENV_BIN / "source-trastpay"), "read", "--config", str(config_path)]
        began = time.perf_counter()
        run = run_client([*command, "--catalog", str(catalog)], MESSAGES)
        wall = time.perf_counter() - began
        counters = sandbox.faults()["counters"]
    requests = float(counters["latency_ms"])
    limited = float(counters["per_token_rps"])
    return {
        "records": float(run.records),
        "wall_s": wall,
        "requests": requests,
        "429s": limited,
        "minimum_s": requests / RATE,
        "ratio": wall / max(requests / RATE, 1e-9),
    }


def summary(figures: dict[str, float], page_size: int) -> str:
    """One line with the scenario's figures and its targets."""
    share = figures["429s"] / max(figures["requests"], 1.0)
    return (
        f"latency-bound, source-trastpay ({CARDS} cards, 100 ms, 20 rps per token, page_size {page_size}): "
        f"{figures['records']:,.0f} records, {figures['requests']:,.0f} requests, "
        f"{figures['429s']:,.0f} 429s ({share:.1%}), wall {figures['wall_s']:.2f} s, "
        f"minimum {figures['minimum_s']:.2f} s -> {figures['ratio']:.2f}x (targets: <= 1.2x, 429s <= 1%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history-days", type=int, default=183, help="six months by default")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--transactions", type=int, default=100_000, help="over the whole history")
    args = parser.parse_args()
    bytecode_cache(True)
    print(summary(scenario(args.history_days, args.page_size, args.transactions), args.page_size))


if __name__ == "__main__":
    main()
