"""Issue 19's targets, each judged from one ``make bench`` run: start-up, CPU per record, memory, no-op.

Ratios are taken within the run (the raw client measured minutes apart from the connector on the
same machine), never against figures of another day: the machine is shared and its load moves
wall times by a factor of several. CPU per record is the client process's own CPU seconds
(``os.wait4``), so the sandbox sharing the cores does not hide or inflate it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incremental import TARGET_S as NOOP_TARGET_S
from measure import Run
from report import Table
from startup import DIRECT_COMMANDS, DIRECT_TARGET_S, Startup

CONNECTORS = ("source-trastpay read", "tap-trastpay")
CPU_SHARE = 0.5
"""Records per CPU-second at least this share of the raw client's (at most 2x its CPU per record)."""
CPU_SIZE = 1_000_000
RSS_CAP_MB = 120.0
RSS_GROWTH = 1.10

Verdict = tuple[str, str, bool | None]
"""(what, measured, met); met is None for a figure the issue asks for without a threshold."""


@dataclass
class Issue19:
    """Everything the issue-19 verdicts are computed from."""

    raw: str
    tables: list[Table] = field(default_factory=list)
    every_card: dict[tuple[int, str], Run] = field(default_factory=dict)
    startup: list[Startup] = field(default_factory=list)
    noop_wall_s: dict[str, float] = field(default_factory=dict)
    multi_card_title: str = "every card"


def _seconds(wall: float, cpu: float) -> str:
    return f"{wall:.2f} s (CPU {cpu:.2f} s)"


def _startup_verdicts(facts: Issue19) -> list[Verdict]:
    """Spec, check and discover against their target; every other command (the empty reads of both
    connectors, the tap's --about and --discover) reported beside them."""
    out: list[Verdict] = []
    for figure in facts.startup:
        measured = _seconds(figure.wall_s, figure.cpu_s)
        if figure.command in DIRECT_COMMANDS:
            what = f"{figure.command} start-up <= {DIRECT_TARGET_S} s (median wall, cold)"
            out.append((what, measured, figure.wall_s <= DIRECT_TARGET_S))
        else:
            out.append((f"{figure.command} start-up (median wall, cold)", measured, None))
    return out


def _cpu_verdicts(facts: Issue19) -> list[Verdict]:
    """Per table: each connector's records per CPU-second against the raw client's in the same table.

    The target is judged at 1M on the largest card (sandbox and replay); the multi-card scenario
    is reported beside it.
    """
    out: list[Verdict] = []
    for table in facts.tables:
        judged = table.transactions == CPU_SIZE and facts.multi_card_title not in table.title
        if not judged and facts.multi_card_title not in table.title:
            continue
        ceiling = table.result(facts.raw).records_per_cpu_s
        for client in CONNECTORS:
            result = table.find(client)
            if result is None:
                continue
            share = result.records_per_cpu_s / ceiling
            where = f"{table.transactions:,}, {table.title or 'largest card, sandbox'}"
            what = f"{client} records per CPU-second >= {CPU_SHARE}x raw ({where})"
            measured = f"{share:.2f}x ({result.records_per_cpu_s:,.0f} vs {ceiling:,.0f})"
            out.append((what, measured, share >= CPU_SHARE if judged else None))
    return out


def _memory_verdicts(facts: Issue19) -> list[Verdict]:
    """Every-card peak RSS at each size (judged at 1M, reported below it) and its growth across sizes."""
    out: list[Verdict] = []
    sizes = sorted({size for size, _ in facts.every_card})
    if not sizes:
        return out
    big_size, small_size = sizes[-1], sizes[0]
    for client in CONNECTORS:
        for size in sizes:
            run = facts.every_card.get((size, client))
            if run is None:
                continue
            what = f"{client} peak RSS <= {RSS_CAP_MB:.0f} MB reading every card ({size:,})"
            met = run.peak_rss_mb <= RSS_CAP_MB if size >= CPU_SIZE else None
            out.append((what, f"{run.peak_rss_mb:.0f} MB", met))
        big = facts.every_card.get((big_size, client))
        small = facts.every_card.get((small_size, client))
        if big is not None and small is not None and small_size != big_size:
            growth = big.peak_rss_mb / small.peak_rss_mb
            what = f"{client} every-card peak RSS at {big_size:,} <= {RSS_GROWTH}x the {small_size:,} run"
            out.append((what, f"{growth:.2f}x", growth <= RSS_GROWTH))
    return out


def verdicts(facts: Issue19) -> list[Verdict]:
    """Each target of issue 19 with its measured figure; met is None where the issue sets no number."""
    out = _startup_verdicts(facts) + _cpu_verdicts(facts) + _memory_verdicts(facts)
    for client, limit in NOOP_TARGET_S.items():
        wall = facts.noop_wall_s.get(client)
        if wall is not None:
            what = f"{client} no-op incremental over 50 cards <= {limit} s (median wall)"
            out.append((what, f"{wall:.2f} s", wall <= limit))
    return out


def _word(met: bool | None) -> str:
    return "reported" if met is None else ("met" if met else "not met")


def print_verdicts(facts: Issue19) -> None:
    print("\ntargets (issue 19):")
    for what, measured, met in verdicts(facts):
        print(f"  {_word(met):8}  {what}: {measured}")


def markdown(facts: Issue19) -> list[str]:
    """The issue-19 part of docs/performance.md: start-up per command, every-card memory, verdicts."""
    lines = ["## Start-up per command (cold process, median)", ""]
    lines += ["| command | wall s | CPU s | runs |", "|---|---:|---:|---:|"]
    lines += [f"| {f.command} | {f.wall_s:.2f} | {f.cpu_s:.2f} | {f.runs} |" for f in facts.startup]
    if facts.every_card:
        lines += ["", "## Every card of the world, one run each (memory)", ""]
        lines += [
            "| world | client | records | peak RSS MB | CPU s | wall s |",
            "|---:|---|---:|---:|---:|---:|",
        ]
        for (size, client), run in sorted(facts.every_card.items()):
            figures = f"{run.records:,} | {run.peak_rss_mb:.0f} | {run.cpu_s:.2f} | {run.wall_s:.2f}"
            lines.append(f"| {size:,} | {client} | {figures} |")
    lines += ["", "## Targets (issue 19)", "", "| target | measured | verdict |", "|---|---:|---|"]
    for what, measured, met in verdicts(facts):
        lines.append(f"| {what} | {measured} | {'**not met**' if met is False else _word(met)} |")
    return lines
