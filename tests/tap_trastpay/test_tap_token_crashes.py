"""A tap killed at any point of a token rotation never costs its user a new OTP login.

The sandbox runs in grace mode (a refresh token whose successor was never used is accepted again
for 60 s and answers the same successor), which is what makes a crash between the server issuing
a token and the tap saving it recoverable. Short-lived access tokens make the tap rotate several
times per run; random kills land from the first saved rotation on, among later rotations.
"""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trastpay_sandbox.testing import SandboxServer

from .tap_harness import login_config, parse_messages, run_tap_process, tap_command, write_catalog

pytestmark = pytest.mark.timeout(240)

CRASH_LAUNCHER = Path(__file__).parents[1] / "reliability" / "crash_launcher.py"
"""Runs the tap with a SIGKILL planted inside a token rotation, from outside the product code."""


@pytest.fixture(scope="module")
def grace_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(
        customers=1,
        history_days=60,
        seed=11,
        refresh_grace=True,
        access_token_ttl=2,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def strict_sandbox() -> Iterator[SandboxServer]:
    """No grace period (a spent refresh token revokes the login); slow enough to rotate mid-run."""
    with SandboxServer(
        customers=1, history_days=60, seed=11, access_token_ttl=2, faults={"latency_ms": 100}
    ) as server:
        yield server


def _config_path(sandbox: SandboxServer, tmp_path: Path, device_id: str) -> Path:
    phone = sandbox.customers()[0]["phone"]
    config: dict[str, Any] = login_config(sandbox, phone, tmp_path, device_id=device_id[:60])
    config["start_date"] = "2026-09-01"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    write_catalog(config, tmp_path / "catalog.json", {"cards", "card_transactions", "statements"})
    return path


@pytest.fixture
def config_path(grace_sandbox: SandboxServer, tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    return _config_path(grace_sandbox, tmp_path, f"crash-{request.node.name}")


def _assert_clean_run(config_path: Path) -> None:
    done = run_tap_process(config_path)
    assert done.returncode == 0, done.stderr[-2000:]
    result = parse_messages(done.stdout)
    assert result.records["cards"], "a healthy run reads the cards"
    assert "progress_markers" not in json.dumps(result.final_state)


def _store(config_path: Path) -> Path:
    return Path(json.loads(config_path.read_text(encoding="utf-8"))["token_store_path"])


def _run_killed_in_rotation(config_path: Path, point: str) -> subprocess.CompletedProcess[str]:
    """The tap, SIGKILLed in its first rotation: ``received`` (before saving) or ``persisted`` (after)."""
    arguments = tap_command(config_path)[1:]
    return subprocess.run(
        [sys.executable, str(CRASH_LAUNCHER), "singer", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RELIABILITY_CRASH_POINT": point, "RELIABILITY_CRASH_ROTATION": "1"},
        check=False,
    )


@pytest.mark.parametrize("point", ["received", "persisted"])
def test_given_a_kill_during_rotation_when_running_again_then_no_new_login_is_needed(
    config_path: Path, point: str
) -> None:
    crashed = _run_killed_in_rotation(config_path, point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    _assert_clean_run(config_path)
    store = _store(config_path)
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    saved = json.loads(store.read_text(encoding="utf-8"))["refresh_token"]
    assert saved != json.loads(config_path.read_text(encoding="utf-8"))["refresh_token"]


def _stored_token(store: Path) -> str | None:
    try:
        return str(json.loads(store.read_text(encoding="utf-8"))["refresh_token"])
    except (FileNotFoundError, ValueError, KeyError):
        return None


def test_given_kills_at_random_moments_when_running_again_then_no_new_login_is_needed(
    config_path: Path, grace_sandbox: SandboxServer
) -> None:
    grace_sandbox.set_faults({"latency_ms": 600})  # long enough runs for the kills to land mid-sync
    try:
        _kill_runs_at_random(config_path)
    finally:
        grace_sandbox.clear_faults()
    _assert_clean_run(config_path)


def _kill_runs_at_random(config_path: Path) -> None:
    """Three runs, each SIGKILLed at a random moment after its first saved rotation."""
    chooser = random.Random(20261128)
    store = _store(config_path)
    killed = 0
    for _ in range(3):
        before = _stored_token(store)
        process = subprocess.Popen(
            tap_command(config_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while process.poll() is None and _stored_token(store) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        kill_at = time.monotonic() + chooser.uniform(0.0, 1.5)
        while process.poll() is None and time.monotonic() < kill_at:
            time.sleep(0.01)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        killed += process.wait(timeout=30) == -signal.SIGKILL
    assert killed >= 2, "the kills should land while the tap runs"


def test_given_two_concurrent_runs_sharing_a_store_when_both_rotate_then_both_succeed(
    strict_sandbox: SandboxServer, tmp_path: Path
) -> None:
    config_path = _config_path(strict_sandbox, tmp_path, "concurrent-runs")
    runs = [
        subprocess.Popen(
            tap_command(config_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr[-2000:]
    _assert_clean_run(config_path)
