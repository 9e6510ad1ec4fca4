"""End to end: the sandbox delivers signed webhooks to `trastpay webhooks serve`, which applies each once.

One sandbox (one customer) and one receiver process serve the whole module. The receiver runs as
users run it: a subprocess of the CLI, secrets in environment variables, events in a SQLite file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trastpay.cli import main
from trastpay.webhook_receiver import WebhookStore
from trastpay_sandbox.testing import SandboxServer

OLD_SECRET = "whsec_e2e_before_rotation"
NEW_SECRET = "whsec_e2e_after_rotation"
DEADLINE_S = 30.0


@dataclass
class ReceiverProcess:
    url: str
    store: WebhookStore
    log_path: Path
    process: subprocess.Popen[str]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=1) as server:
        yield server


@pytest.fixture(scope="module")
def phone(sandbox: SandboxServer) -> str:
    return str(sandbox.customers()[0]["phone"])


@pytest.fixture(scope="module")
def receiver(
    sandbox: SandboxServer, phone: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReceiverProcess]:
    directory = tmp_path_factory.mktemp("webhooks")
    db, log_path = directory / "events.sqlite", directory / "receiver.log"
    grace_until = (datetime.now().astimezone() + timedelta(hours=1)).isoformat(timespec="seconds")
    env = {**os.environ, "E2E_HOOK_SECRET": NEW_SECRET, "E2E_HOOK_OLD_SECRET": OLD_SECRET}
    command = [
        sys.executable, "-m", "trastpay.cli", "webhooks", "serve",
        "--secret-env", "E2E_HOOK_SECRET", "--previous-secret-env", "E2E_HOOK_OLD_SECRET",
        "--grace-until", grace_until, "--db", str(db), "--port", "0",
    ]  # fmt: skip
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, env=env, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), log_path.read_text(encoding="utf-8")
    registered = sandbox.request(
        "POST", "/_sandbox/webhooks", {"url": url + "hooks", "secret": OLD_SECRET, "phone": phone}
    )
    assert registered[0] == 201, registered
    running = ReceiverProcess(url, WebhookStore(db), log_path, process)
    yield running
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert "Stopped:" in running.log()
    assert OLD_SECRET not in running.log()
    assert NEW_SECRET not in running.log()


def advance_and_expect(sandbox: SandboxServer, phone: str, duration: str) -> list[dict[str, Any]]:
    """Advance the clock; the events of the customer that happened in that window, in id order."""
    before = datetime.fromisoformat(sandbox.now())
    after = datetime.fromisoformat(sandbox.advance(duration)["now"])
    events = [
        e
        for e in sandbox.truth("events", phone)
        if before < datetime.fromisoformat(e["occurred_at"]) <= after
    ]
    assert events, f"no events in the {duration} window; pick a longer one"
    return events


def stored_ids(receiver: ReceiverProcess) -> list[str]:
    return [event["id"] for event in receiver.store.events()]


def test_given_receiver_registered_when_clock_advances_then_every_event_is_stored_exactly_once(
    sandbox: SandboxServer, phone: str, receiver: ReceiverProcess
) -> None:
    already = set(stored_ids(receiver))

    expected = advance_and_expect(sandbox, phone, "P2D")

    wanted = {event["id"] for event in expected}
    wait_for(lambda: wanted <= set(stored_ids(receiver)), f"{len(wanted)} events in the receiver")
    ids = stored_ids(receiver)
    assert len(ids) == len(set(ids))
    assert set(ids) - already == wanted
    stored = {event["id"]: event for event in receiver.store.events()}
    assert all(stored[event["id"]] == event for event in expected)


def test_given_stored_events_when_replayed_through_the_cli_then_redelivered_and_none_applied_twice(
    sandbox: SandboxServer, phone: str, receiver: ReceiverProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = advance_and_expect(sandbox, phone, "P1D")
    wanted = {event["id"] for event in expected}
    wait_for(lambda: wanted <= set(stored_ids(receiver)), "the window's events")
    count_before = receiver.store.count()
    duplicates_before = receiver.log().count(" duplicate")
    first, last = min(wanted), max(wanted)

    code = main(
        ["webhooks", "replay", "--from-event", first, "--to-event", last, "--sandbox-url", sandbox.base_url]
    )

    assert code == 0
    assert f"Replay queued: {len(wanted)} events" in capsys.readouterr().out
    wait_for(
        lambda: receiver.log().count(" duplicate") - duplicates_before >= len(wanted),
        "the replayed deliveries",
    )
    assert receiver.store.count() == count_before


def test_given_sandbox_rotates_to_the_new_secret_when_events_arrive_then_they_are_still_applied(
    sandbox: SandboxServer, phone: str, receiver: ReceiverProcess
) -> None:
    rotated = sandbox.request(
        "POST", "/_sandbox/webhooks/rotate-secret", {"secret": NEW_SECRET, "grace_seconds": 0}
    )
    assert rotated[0] == 200

    expected = advance_and_expect(sandbox, phone, "P1D")

    wanted = {event["id"] for event in expected}
    wait_for(lambda: wanted <= set(stored_ids(receiver)), "events signed with the new secret")
    ids = stored_ids(receiver)
    assert len(ids) == len(set(ids))


def test_given_replay_of_a_malformed_range_when_asked_then_exit_1_with_the_sandbox_reason(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "webhooks",
            "replay",
            "--from-event",
            "evt_9",
            "--to-event",
            "evt_1",
            "--sandbox-url",
            sandbox.base_url,
        ]
    )

    assert code == 1
    assert "error: the sandbox refused the replay (400)" in capsys.readouterr().err
