"""cProfile ``source-trastpay read`` and ``tap-trastpay`` on one card: where each spends its time.

The source runs through its console entry point, so ``TRASTPAY_FAST_PATH=0`` profiles the CDK path.

Same set-up as ``run.py`` (one customer, warmed sandbox, the largest card, page_size 1000);
each connector runs once under ``python -m cProfile`` with its output discarded, then the top
entries by cumulative time are printed.

    .venv/bin/python bench/profile_connectors.py [--transactions 100000] [--top 10]
"""

from __future__ import annotations

import argparse
import json
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_clients import bytecode_cache, connector_config
from run import EARLY, discover_tap, warm

from trastpay_sandbox.testing import SandboxServer


def profile(name: str, module_args: list[str], workdir: Path, top: int) -> None:
    """Run ``python -m cProfile -m <module_args>`` and print its top cumulative entries."""
    output = workdir / f"{name}.prof"
    command = [sys.executable, "-m", "cProfile", "-o", str(output), "-m", *module_args]
    completed = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{name} failed:\n{completed.stderr.decode()[-2000:]}")
    stats = pstats.Stats(str(output))
    print(f"\n=== {name}: top {top} by cumulative time")
    stats.sort_stats("cumulative").print_stats(top)
    print(f"\n=== {name}: top {top} by own time")
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    bytecode_cache(True)
    with (
        SandboxServer(customers=1, transactions=args.transactions) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        workdir = Path(tmp)
        counts = warm(sandbox)
        card = max(counts, key=lambda token: counts[token])
        print(f"profiling on a card of {counts[card]:,} records")
        discover_tap(sandbox, workdir, card)
        source_config = workdir / "source-config.json"
        source_config.write_text(
            json.dumps(connector_config(sandbox, workdir, card, EARLY)), encoding="utf-8"
        )
        catalog = workdir / "airbyte-catalog.json"
        profile(
            "source-trastpay read",
            ["source_trastpay.console", "read", "--config", str(source_config), "--catalog", str(catalog)],
            workdir,
            args.top,
        )
        tap_config = workdir / "tap-config.json"
        tap_config.write_text(json.dumps(connector_config(sandbox, workdir, card, EARLY)), encoding="utf-8")
        singer = workdir / "singer-catalog.json"
        profile(
            "tap-trastpay",
            ["tap_trastpay", "--config", str(tap_config), "--catalog", str(singer)],
            workdir,
            args.top,
        )


if __name__ == "__main__":
    main()
