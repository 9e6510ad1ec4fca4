"""Rotating refresh tokens under stress: revoked access tokens, lost answers, kills, long syncs.

A refresh token is single use, so every case here is judged on whether the user ever has to log
in again with an OTP. The sandbox's request journal shows each refresh and each 401; a strict
sandbox (no grace period) turns any reuse of a spent token into a revoked login, so a follow-up run
that succeeds proves the newest token was persisted.
"""

from __future__ import annotations

import random
import re
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
    connector_config,
    connectors_in_ci,
    is_refresh,
    messages_after_error,
    report,
    request_identity,
    request_journal,
    run_connector,
)

STREAMS = ("card_transactions", "transfers")
LOGIN_AGAIN = re.compile(r"log in again", re.IGNORECASE)


@pytest.fixture
def strict(small_sandbox: SandboxServer) -> SandboxServer:
    return small_sandbox


@pytest.fixture(scope="module")
def strict_short() -> Iterator[SandboxServer]:
    """Strict, and access tokens live 2 s: a sync of a few seconds spans several lifetimes."""
    with SandboxServer(customers=1, history_days=30, seed=32, access_token_ttl=2) as server:
        yield server


@pytest.fixture(scope="module")
def grace_short() -> Iterator[SandboxServer]:
    """Grace mode (a spent token whose successor was never used answers that successor again)."""
    with SandboxServer(
        customers=1, history_days=30, seed=33, refresh_grace=True, access_token_ttl=2
    ) as server:
        yield server


def _run(
    sandbox: SandboxServer,
    connector: Connector,
    workdir: Path,
    faults: dict[str, Any],
    *,
    overrides: dict[str, Any] | None = None,
    crash_env: dict[str, str] | None = None,
) -> tuple[RunResult, list[dict[str, Any]]]:
    if not (workdir / "config.json").exists():
        connector_config(connector, sandbox, workdir)
    sandbox.set_faults({"journal": True, **faults})
    try:
        result = run_connector(
            connector,
            sandbox,
            workdir,
            streams=STREAMS,
            config_overrides={"page_size": 10, **(overrides or {})},
            timeout=180,
            crash_env=crash_env,
        )
        return result, request_journal(sandbox)
    finally:
        sandbox.clear_faults()


def _data(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in journal if not is_refresh(e)]


def _lost_total(sandbox: SandboxServer, runs: list[RunResult]) -> tuple[int, int]:
    comparisons = [compare_with_truth(sandbox, stream, runs) for stream in STREAMS]
    return sum(c.lost for c in comparisons), sum(c.wrong_after_dedup for c in comparisons)


def _user_error(result: RunResult) -> str:
    """What the user is shown: Airbyte's error trace messages (the protocol keeps stack traces in a
    separate field), the tap's stderr."""
    if result.connector == "airbyte":
        return "\n".join(str(t.get("message")) for t in result.error_traces)
    return result.stderr.decode("utf-8", errors="replace")


def _no_state_after_error(result: RunResult) -> bool:
    if result.connector == "airbyte":
        return "STATE" not in messages_after_error(result)
    return True  # the tap writes its error to stderr and exits; its stdout order is checked by the caller


# --- access token revoked mid-pagination -------------------------------------------------------


@pytest.mark.parametrize("connector", connectors_in_ci("airbyte"))
def test_given_an_access_token_revoked_mid_pagination_when_syncing_then_one_refresh_and_the_page_is_retried(
    strict: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    result, journal = _run(
        strict, connector, tmp_path / connector, {"revoke_access_after_pages": {"after_pages": 3}}
    )
    first_401 = next(i for i, e in enumerate(journal) if e["status"] == 401)
    after = journal[first_401:]
    refreshes = sum(1 for e in after if is_refresh(e))
    refused = {request_identity(e) for e in after if e["status"] == 401 and not is_refresh(e)}
    retried_ok = {request_identity(e) for e in after if e["status"] == 200 and not is_refresh(e)}
    lost, wrong = _lost_total(strict, [result])
    passed = result.ok and refreshes == 1 and refused <= retried_ok and lost == 0 and wrong == 0
    report(
        "access token revoked mid-pagination",
        connector,
        1,
        passed,
        f"{len(refused)} request(s) refused, {refreshes} refresh after the 401, every refused page "
        f"re-sent and answered: {refused <= retried_ok}; lost {lost}, wrong after dedup {wrong}",
    )
    assert result.ok, result.output_text[-3000:]
    assert refreshes == 1
    assert refused <= retried_ok
    assert (lost, wrong) == (0, 0)


@pytest.mark.parametrize("connector", connectors_in_ci("singer"))
def test_given_the_refreshed_token_is_rejected_too_when_syncing_then_config_error_and_no_loop(
    strict: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    faults = {"revoke_access_after_pages": {"after_pages": 3, "reject_refreshed": True}}
    result, journal = _run(strict, connector, tmp_path / connector, faults)
    first_401 = next(i for i, e in enumerate(journal) if e["status"] == 401)
    after = journal[first_401:]
    refreshes = sum(1 for e in after if is_refresh(e))
    data_after_refresh = len(_data(after)) - len(
        [e for e in after if not is_refresh(e) and e["t"] <= after[0]["t"]]
    )
    workers = 4
    config_error = "config_error" in result.failure_types
    passed = (
        result.returncode != 0
        and config_error
        and refreshes == 1
        and data_after_refresh <= 2 * workers
        and _no_state_after_error(result)
        and "Traceback" not in _user_error(result)
    )
    report(
        "access token rejected again after the refresh",
        connector,
        1,
        passed,
        f"exit {result.returncode}, failure {result.failure_types}, {refreshes} refresh, "
        f"{data_after_refresh} requests after the first 401, wall {result.wall_s:.1f} s",
    )
    assert result.returncode != 0
    assert config_error, result.output_text[-3000:]
    assert refreshes == 1
    assert data_after_refresh <= 2 * workers, "the connector kept retrying a refused token"
    assert _no_state_after_error(result)
    assert "Traceback" not in _user_error(result)


# --- token response lost after the server rotated ----------------------------------------------


@pytest.mark.parametrize("connector", connectors_in_ci("singer"))
def test_given_a_lost_refresh_answer_in_grace_mode_when_syncing_then_the_resend_succeeds(
    grace_short: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    result, journal = _run(
        grace_short, connector, tmp_path / connector, {"lose_refresh_answer": {"next_n": 1}}
    )
    refreshes = [e for e in journal if is_refresh(e)]
    lost_answers = sum(1 for e in refreshes if e.get("lost"))
    lost, wrong = _lost_total(grace_short, [result])
    passed = result.ok and lost_answers == 1 and lost == 0 and wrong == 0
    report(
        "token answer lost after rotation, grace mode",
        connector,
        1,
        passed,
        f"{lost_answers} answer lost, {len(refreshes)} refreshes in all; "
        f"lost {lost}, wrong after dedup {wrong}",
    )
    assert result.ok, result.output_text[-3000:]
    assert lost_answers == 1
    assert (lost, wrong) == (0, 0)


@pytest.mark.parametrize("connector", connectors_in_ci("airbyte"))
def test_given_a_lost_refresh_answer_in_strict_mode_when_syncing_then_one_reuse_then_log_in_again(
    strict: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    result, journal = _run(strict, connector, tmp_path / connector, {"lose_refresh_answer": {"next_n": 1}})
    refreshes = [e for e in journal if is_refresh(e)]
    data = _data(journal)
    says_login = bool(LOGIN_AGAIN.search(_user_error(result)))
    passed = (
        result.returncode != 0
        and "config_error" in result.failure_types
        and len(refreshes) == 2
        and not data
        and says_login
        and "Traceback" not in _user_error(result)
    )
    report(
        "token answer lost after rotation, strict mode",
        connector,
        1,
        passed,
        f"{len(refreshes)} refresh requests (statuses {[e['status'] for e in refreshes]}), "
        f"{len(data)} data requests, failure {result.failure_types}, says 'log in again': {says_login}",
    )
    assert result.returncode != 0
    assert "config_error" in result.failure_types, result.output_text[-3000:]
    assert len(refreshes) == 2, "at most one reuse of the refresh token"
    assert not data
    assert says_login
    assert "Traceback" not in _user_error(result)


# --- a long sync across several access-token lifetimes -----------------------------------------


@pytest.mark.parametrize("connector", connectors_in_ci("singer"))
def test_given_a_sync_spanning_several_token_lifetimes_when_syncing_then_no_401_and_every_rotation_saved(
    strict_short: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    ttl = 2.0
    workdir = tmp_path / connector
    result, journal = _run(
        strict_short,
        connector,
        workdir,
        {"latency_ms": 300},
        overrides={"page_size": 5, "max_concurrency": 1},
    )
    refreshes = [e for e in journal if is_refresh(e)]
    data = _data(journal)
    unauthorized = [e for e in data if e["status"] == 401]
    issued_at = [e["t"] for e in refreshes]
    oldest_use = 0.0
    for entry in data:
        before = [t for t in issued_at if t <= entry["t"]]
        if before:
            oldest_use = max(oldest_use, entry["t"] - before[-1])
    published = len(result.control_configs) if connector == "airbyte" else None
    follow_up, _ = _run(strict_short, connector, workdir, {}, overrides={"page_size": 200})
    saved_every = published == len(refreshes) if connector == "airbyte" else True
    lost, wrong = _lost_total(strict_short, [result])
    passed = (
        result.ok
        and len(refreshes) >= 3
        and not unauthorized
        and oldest_use < ttl
        and saved_every
        and follow_up.ok
        and lost == 0
        and wrong == 0
    )
    report(
        "long sync across access-token lifetimes (ttl 2 s)",
        connector,
        2,
        passed,
        f"{len(refreshes)} rotations in {result.wall_s:.1f} s, 401s seen {len(unauthorized)}, "
        f"token age at use <= {oldest_use:.2f} s, "
        + (f"control messages {published}, " if published is not None else "token store, ")
        + f"next run on the saved token: {'ok' if follow_up.ok else 'FAILED'}; lost {lost}",
    )
    assert result.ok, result.output_text[-3000:]
    assert len(refreshes) >= 3, "the sync should outlive several access tokens"
    assert not unauthorized, "a 401 reached the sync: the refresh came too late"
    assert oldest_use < ttl
    assert saved_every, f"{published} control messages for {len(refreshes)} rotations"
    assert follow_up.ok, follow_up.output_text[-3000:]
    assert (lost, wrong) == (0, 0)


# --- kill -9 between receiving a rotated token and persisting it -------------------------------


def _kill_trials(
    sandbox: SandboxServer, connector: Connector, tmp_path: Path, trials: int, seed: int
) -> None:
    chooser = random.Random(seed)
    workdir = tmp_path / connector
    killed = forced_login = 0
    runs: list[RunResult] = []
    for trial in range(trials):
        rotation = 1 if trial < 2 else chooser.randint(1, 2)
        point = (
            ("received", "persisted")[trial % 2] if trial < 2 else chooser.choice(("received", "persisted"))
        )
        crashed, _ = _run(
            sandbox,
            connector,
            workdir,
            {"latency_ms": 200},
            overrides={"page_size": 10, "max_concurrency": 1},
            crash_env={"RELIABILITY_CRASH_ROTATION": str(rotation), "RELIABILITY_CRASH_POINT": point},
        )
        killed += crashed.returncode == -9
        runs.append(crashed)
        resumed, _ = _run(sandbox, connector, workdir, {}, overrides={"page_size": 200})
        runs.append(resumed)
        if not resumed.ok:
            forced_login += 1
    lost, wrong = _lost_total(sandbox, runs)
    passed = killed >= max(1, trials // 2) and forced_login == 0 and lost == 0 and wrong == 0
    report(
        f"kill -9 inside a token rotation, then run again ({trials} trials)",
        connector,
        2 * trials,
        passed,
        f"{trials} trials, {killed} killed inside a rotation, forced re-logins {forced_login}; "
        f"lost {lost}, wrong after dedup {wrong} (grace-mode server)",
    )
    assert killed >= max(1, trials // 2), "the kills should land inside rotations"
    assert forced_login == 0, runs[-1].output_text[-3000:]
    assert (lost, wrong) == (0, 0)


@pytest.mark.parametrize("connector", connectors_in_ci("singer"))
def test_given_a_kill_inside_a_token_rotation_when_running_again_then_no_new_login_is_needed(
    grace_short: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    _kill_trials(grace_short, connector, tmp_path, trials=2, seed=7)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("connector", CONNECTORS)
def test_given_many_kills_inside_token_rotations_when_running_again_then_no_new_login_is_ever_needed(
    grace_short: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    _kill_trials(grace_short, connector, tmp_path, trials=20, seed=20261128)
