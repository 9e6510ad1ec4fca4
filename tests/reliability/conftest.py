"""Reliability suite plumbing: the summary table and its ``--reliability-report`` option.

Each case calls :func:`reliability.harness.report` with its figures; the pytest outcome is merged
in (a case that reported "passed" but then failed its assertions shows FAIL). The table is printed
at the end of the session and, with ``--reliability-report docs/reliability.md``, written into that
file between its markers. Run without xdist (``-n``) to get one table.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trastpay_sandbox.testing import SandboxServer

from .harness import ROWS
from .summary import render_text, table_rows, write_report


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reliability-report",
        metavar="PATH",
        default=None,
        help="write the reliability summary table into PATH (e.g. docs/reliability.md) between its markers",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    result = yield
    if result.when == "call" or (result.when == "setup" and result.failed):
        state = "xfailed" if hasattr(result, "wasxfail") and result.skipped else result.outcome
        for row in ROWS:
            if row.nodeid == item.nodeid and row.outcome in ("", "passed"):
                row.outcome = state
    return result


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    rows = table_rows(ROWS)
    if not rows:
        return
    terminalreporter.section("reliability summary")
    for line in render_text(rows):
        terminalreporter.write_line(line)
    target = config.getoption("--reliability-report", default=None)
    if target:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        write_report(Path(target), rows, stamp=stamp)
        terminalreporter.write_line(f"written to {target}")


@pytest.fixture(scope="session")
def small_sandbox() -> Iterator[SandboxServer]:
    """One customer, a month of history, strict rotation: shared by the fault, token and resume cases.

    Each case sets its own fault switches and clears them after; none moves the clock.
    """
    with SandboxServer(customers=1, history_days=30, seed=31) as server:
        yield server
