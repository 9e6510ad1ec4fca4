"""Both connectors ride out a misbehaving API: 429 storms, 5xx, timeouts, resets, truncated pages.

Each case switches a sandbox fault on, runs a real sync, and judges it on two sides: the output
against ``/_sandbox/truth`` (0 lost, nothing wrong after dedup, no record twice in one run, so no
record came from a broken page) and the sandbox's request journal (when each retry came, how many
attempts one request took).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trastpay_sandbox.testing import SandboxServer

from .harness import (
    CONNECTORS,
    Connector,
    RunResult,
    compare_with_truth,
    connectors_in_ci,
    is_refresh,
    report,
    request_identity,
    request_journal,
    run_connector,
)

STREAMS = ("card_transactions", "transfers")


@pytest.fixture
def sandbox(small_sandbox: SandboxServer) -> SandboxServer:
    return small_sandbox


@pytest.fixture
def faulty(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    yield sandbox
    sandbox.clear_faults()


def _sync_under(
    sandbox: SandboxServer,
    connector: Connector,
    workdir: Path,
    faults: dict[str, Any],
    overrides: dict[str, Any] | None = None,
    timeout: float = 300.0,
) -> tuple[RunResult, list[dict[str, Any]], dict[str, int]]:
    """Log in, switch ``faults`` (plus the journal) on, sync, and collect the sandbox's evidence."""
    from .harness import connector_config

    connector_config(connector, sandbox, workdir)
    sandbox.set_faults({"journal": True, **faults})
    result = run_connector(
        connector,
        sandbox,
        workdir,
        streams=STREAMS,
        config_overrides={"page_size": 10, **(overrides or {})},
        timeout=timeout,
    )
    journal = request_journal(sandbox)
    counters = sandbox.faults()["counters"]
    sandbox.clear_faults()
    return result, journal, counters


def _output_verdict(sandbox: SandboxServer, result: RunResult) -> tuple[bool, str]:
    """0 lost, 0 wrong after dedup, and no record twice within the one run."""
    comparisons = [compare_with_truth(sandbox, stream, [result]) for stream in STREAMS]
    lost = sum(c.lost for c in comparisons)
    wrong = sum(c.wrong_after_dedup for c in comparisons)
    repeated = sum(c.raw_duplicates for c in comparisons)
    emitted = sum(c.emitted for c in comparisons)
    ok = result.ok and lost == 0 and wrong == 0 and repeated == 0
    return ok, f"{emitted} records, lost {lost}, wrong after dedup {wrong}, repeated {repeated}"


def _data_requests(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in journal if not is_refresh(entry)]


def _earliest_retry_gaps(journal: list[dict[str, Any]]) -> list[float]:
    """For every 429, seconds until the same request was sent again (reads may run in parallel)."""
    last_429: dict[tuple[str, str, str], float] = {}
    gaps: list[float] = []
    for entry in _data_requests(journal):
        identity = request_identity(entry)
        if identity in last_429:
            gaps.append(entry["t"] - last_429.pop(identity))
        if entry["status"] == 429:
            last_429[identity] = entry["t"]
    return gaps


def _attempts_per_request(journal: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """Attempts per distinct request (same path, query and statement card and page)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for entry in _data_requests(journal):
        counts[request_identity(entry)] += 1
    return counts


def _storm(
    faulty: SandboxServer, connector: Connector, tmp_path: Path, duration: float, retry_after: int
) -> None:
    storm = {"rate_limit_storm": {"duration_s": duration, "retry_after_s": retry_after}}
    result, journal, counters = _sync_under(faulty, connector, tmp_path / connector, storm)
    gaps = _earliest_retry_gaps(journal)
    ok, figures = _output_verdict(faulty, result)
    earliest = min(gaps, default=float("nan"))
    patient = bool(gaps) and earliest >= retry_after - 0.01
    report(
        f"429 storm Retry-After {retry_after} s for {duration:g} s",
        connector,
        1,
        ok and patient,
        f"{counters['rate_limit_storm']} x 429, earliest retry after {earliest:.2f} s; {figures}; "
        f"wall {result.wall_s:.1f} s",
    )
    assert result.ok, result.output_text[-3000:]
    assert counters["rate_limit_storm"] > 0, "the storm never hit the sync"
    assert patient, f"a retry came {earliest:.2f} s after a 429 asking for {retry_after} s"
    assert ok, figures


@pytest.mark.parametrize("connector", connectors_in_ci("singer"))
def test_given_a_429_storm_when_syncing_then_no_retry_comes_before_retry_after_and_nothing_is_lost(
    faulty: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    _storm(faulty, connector, tmp_path, duration=6, retry_after=2)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("connector", CONNECTORS)
def test_given_a_90_s_429_storm_with_retry_after_20_when_syncing_then_it_waits_it_out(
    faulty: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    _storm(faulty, connector, tmp_path, duration=90, retry_after=20)


def _server_errors(faulty: SandboxServer, connector: Connector, tmp_path: Path, duration: float) -> None:
    faults = {"error_rate": {"ratio": 0.3, "status": 503, "duration_s": duration}}
    max_retries = 5
    result, journal, counters = _sync_under(
        faulty, connector, tmp_path / connector, faults, {"max_retries": max_retries}, timeout=duration + 300
    )
    attempts = _attempts_per_request(journal)
    worst = max(attempts.values(), default=0)
    ok, figures = _output_verdict(faulty, result)
    bounded = worst <= max_retries + 1
    requests = len(_data_requests(journal))
    report(
        f"30% 5xx for {duration:g} s",
        connector,
        1,
        ok and bounded,
        f"{counters['error_rate']} x 503 in {requests} requests, at most {worst} attempts per request "
        f"(bound {max_retries + 1}); {figures}; wall {result.wall_s:.1f} s",
    )
    assert result.ok, result.output_text[-3000:]
    assert counters["error_rate"] > 0
    assert bounded, f"one request took {worst} attempts"
    assert ok, figures


@pytest.mark.parametrize("connector", connectors_in_ci("singer"))
def test_given_30_percent_server_errors_when_syncing_then_attempts_are_bounded_and_nothing_is_lost(
    faulty: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    _server_errors(faulty, connector, tmp_path, duration=6)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("connector", CONNECTORS)
def test_given_30_percent_server_errors_for_two_minutes_when_syncing_then_it_succeeds(
    faulty: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    _server_errors(faulty, connector, tmp_path, duration=120)


@pytest.mark.parametrize("connector", connectors_in_ci("airbyte"))
def test_given_timeouts_resets_and_truncated_pages_when_syncing_then_no_record_of_a_broken_page_arrives(
    faulty: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    faults = {
        "slow_response": {"delay_s": 2.5, "every_n": 7},
        "connection_reset": {"every_n": 5},
        "malformed_page": {"every_n": 6},
    }
    result, _, counters = _sync_under(
        faulty, connector, tmp_path / connector, faults, {"timeout_seconds": 1, "max_retries": 8}
    )
    ok, figures = _output_verdict(faulty, result)
    served = {name: counters[name] for name in faults}
    report(
        "slow responses, resets, truncated JSON",
        connector,
        1,
        ok and all(served.values()),
        f"timeouts {served['slow_response']}, resets {served['connection_reset']}, "
        f"truncated {served['malformed_page']}; {figures}",
    )
    assert result.ok, result.output_text[-3000:]
    assert all(served.values()), f"some fault never fired: {served}"
    assert ok, figures
