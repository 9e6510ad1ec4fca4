"""Cold start-up of every connector command: N fresh processes each, median wall and CPU seconds.

Like hyperfine without its dependency: each run is a new process (bytecode cache primed, as an
installed connector has), its output drained, its wall time taken around the process and its CPU
seconds from ``os.wait4`` of that child. ``check`` and the empty reads talk to a local sandbox
(a fresh login per run, so no two runs share a refresh token); an empty read starts at the
sandbox's "now", so it reads nothing and measures start-up, login and the first requests. Wall
time on a shared 2-core machine moves with its load; CPU seconds move much less, so both are shown.

    .venv/bin/python bench/startup.py [--runs 11]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench_clients import (
    SOURCE,
    TAP,
    VENV_BIN,
    airbyte_catalog,
    bytecode_cache,
    connector_config,
    singer_catalog,
)
from measure import MESSAGES, run_client

from trastpay_sandbox.testing import SandboxServer

SOURCE_BIN = str(VENV_BIN / "source-trastpay")
TAP_BIN = str(VENV_BIN / "tap-trastpay")
DIRECT_TARGET_S = 0.5
"""Issue 19: ``source-trastpay spec``, ``check`` and ``discover`` answer within this (median wall)."""
DIRECT_COMMANDS = ("source-trastpay spec", "source-trastpay check", "source-trastpay discover")


@dataclass(frozen=True)
class Startup:
    """Median cold-start figures of one command."""

    command: str
    wall_s: float
    cpu_s: float
    runs: int


def _config_file(sandbox: SandboxServer, workdir: Path, start_date: str) -> str:
    path = workdir / "startup-config.json"
    path.write_text(json.dumps(connector_config(sandbox, workdir, "", start_date)), encoding="utf-8")
    return str(path)


def commands(sandbox: SandboxServer, workdir: Path) -> dict[str, Callable[[], list[str]]]:
    """Each measured command, as a factory of a fresh command line (fresh login where it matters)."""
    now = sandbox.now()
    config = _config_file(sandbox, workdir, "2000-01-01")
    discovered = subprocess.run([TAP_BIN, "--config", config, "--discover"], capture_output=True, check=True)
    singer_catalog(json.loads(discovered.stdout), workdir)
    airbyte_catalog(workdir)
    return {
        "source-trastpay spec": lambda: [SOURCE_BIN, "spec"],
        "source-trastpay check": lambda: [
            SOURCE_BIN,
            "check",
            "--config",
            _config_file(sandbox, workdir, now),
        ],
        "source-trastpay discover": lambda: [SOURCE_BIN, "discover", "--config", config],
        "source-trastpay read (empty)": lambda: SOURCE.prepare(sandbox, workdir, "", now).command,
        "tap-trastpay --about": lambda: [TAP_BIN, "--about"],
        "tap-trastpay --discover": lambda: [TAP_BIN, "--config", config, "--discover"],
        "tap-trastpay (empty read)": lambda: TAP.prepare(sandbox, workdir, "", now).command,
    }


def measure(sandbox: SandboxServer, runs: int) -> list[Startup]:
    """Every command ``runs`` times, interleaved (so a burst of load hits all of them alike)."""
    with tempfile.TemporaryDirectory() as tmp:
        factories = commands(sandbox, Path(tmp))
        walls: dict[str, list[float]] = {name: [] for name in factories}
        cpus: dict[str, list[float]] = {name: [] for name in factories}
        for _ in range(runs):
            for name, factory in factories.items():
                run = run_client(factory(), MESSAGES)
                walls[name].append(run.wall_s)
                cpus[name].append(run.cpu_s)
    return [
        Startup(name, statistics.median(walls[name]), statistics.median(cpus[name]), runs)
        for name in factories
    ]


def lines(figures: list[Startup]) -> list[str]:
    """One printable line per command, the issue's target named where there is one."""
    out = []
    for figure in figures:
        text = f"{figure.command}: median wall {figure.wall_s:.2f} s, CPU {figure.cpu_s:.2f} s"
        text += f" ({figure.runs} runs)"
        if figure.command in DIRECT_COMMANDS:
            met = "met" if figure.wall_s <= DIRECT_TARGET_S else "not met"
            text += f" (target <= {DIRECT_TARGET_S} s wall: {met})"
        out.append(text)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="cold runs per command (median)")
    args = parser.parse_args()
    print(f"bytecode cache: {bytecode_cache(True)}", flush=True)
    with SandboxServer(customers=1, history_days=30) as sandbox:
        for line in lines(measure(sandbox, args.runs)):
            print(line, flush=True)


if __name__ == "__main__":
    main()
