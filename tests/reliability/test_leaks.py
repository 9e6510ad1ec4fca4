"""Leak scans against both connectors: no unmasked card number and no secret in any output.

PAN scan: the sandbox plants Luhn-valid card numbers (16, 19 and 13 digits, contiguous and in
groups with spaces or dashes) in records (PAN fields, free text, personal names, added and nested
fields), in error bodies (retried 503s, a fatal 400), in response headers, in page-token URLs and
in a 200 HTML page. Everything the connector wrote (stdout with its records, states and logs,
stderr, the Singer token store) is scanned with an independent Luhn scanner: 0 card numbers.

Secret scan: ``spec``, ``check``, ``discover`` and ``read`` (with access tokens expiring every two
pages, so the read rotates the refresh token several times) of each connector. The sandbox
records every OTP, access token and refresh token it issued (``record_secrets``); none may appear
anywhere, except refresh tokens in Airbyte's CONNECTOR_CONFIG control messages and in the Singer
token store, the two places the design keeps them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from trastpay_sandbox.hostile import PLANTED_PANS
from trastpay_sandbox.testing import SandboxServer

from .bad_input import RECORD_SECRETS, command_job, fresh_config, issued_secrets, read_job, shared_sandbox
from .forked import Connector, Job, Outcome, run_forked
from .harness import CONNECTORS, report
from .scans import files_text, find_pans, find_planted, find_secrets

PAN_STREAMS = ["cards", "card_transactions", "transfers", "events"]


@dataclass(frozen=True)
class PanCase:
    name: str
    switches: dict[str, Any]
    completes: bool


PAN_CASES: tuple[PanCase, ...] = (
    PanCase(
        "PANs in records, headers, URLs, retried error bodies",
        {"plant_pan": {"in": ["records", "headers", "url", "error_body"], "error_every_n": 4}},
        completes=True,
    ),
    PanCase(
        "PAN in a fatal 400 error body",
        {"plant_pan": {"in": ["error_body", "headers"], "error_every_n": 3, "error_status": 400}},
        completes=False,
    ),
    PanCase("PAN in a 200 HTML page", {"corrupt_page": {"kind": "html", "every_n": 1}}, completes=False),
)
COMMANDS = ("spec", "check", "discover", "read")


@dataclass
class Runs:
    sandbox: SandboxServer
    pan: dict[tuple[str, str], Outcome]
    commands: dict[tuple[str, str], Outcome]
    secrets: dict[str, list[str]]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    sandbox = shared_sandbox()
    root = tmp_path_factory.mktemp("leaks")
    faults_url = sandbox.base_url + "/_sandbox/faults"
    jobs: list[tuple[str, tuple[str, str], Job]] = []
    for index, case in enumerate(PAN_CASES):
        for connector in CONNECTORS:
            workdir = root / f"pan-{index}-{connector}"
            config = fresh_config(sandbox, workdir, f"pan-{index}-{connector}", page_size=10)
            job = read_job(connector, workdir, config, PAN_STREAMS)
            job.before = ("POST", faults_url, {**RECORD_SECRETS, **case.switches})
            jobs.append(("pan", (case.name, connector), job))
    for connector in CONNECTORS:
        for command in COMMANDS:
            workdir = root / f"secret-{command}-{connector}"
            # The read's access tokens serve two pages each. Partitions read concurrently (the
            # default max_concurrency is 4) share each refreshed token, so one request can see
            # four tokens in a row used up by the other readers and stop at the core's bound of
            # MAX_TOKENS_PER_REQUEST refusals: under CPU load the tap exited 1. One reader makes
            # the rotations this scan needs deterministic (every second page).
            serial = {"max_concurrency": 1} if command == "read" else {}
            config = fresh_config(sandbox, workdir, f"secret-{command}-{connector}", page_size=10, **serial)
            if command == "read":
                job = read_job(connector, workdir, config, ["cards", "transfers", "card_transactions"])
                job.before = ("POST", faults_url, {**RECORD_SECRETS, "expire_token_after_pages": 2})
            else:
                job = command_job(connector, command, workdir, config)
                job.before = ("POST", faults_url, RECORD_SECRETS)
            jobs.append(("secret", (command, connector), job))
    outcomes = run_forked([job for _, _, job in jobs], timeout=900)
    sandbox.set_faults(RECORD_SECRETS)
    pan = {key: o for (kind, key, _), o in zip(jobs, outcomes, strict=True) if kind == "pan"}
    commands = {key: o for (kind, key, _), o in zip(jobs, outcomes, strict=True) if kind == "secret"}
    return Runs(sandbox, pan, commands, issued_secrets(sandbox))


def _written_files(outcome: Outcome) -> dict[str, str]:
    """Everything the run left in its folder besides its own inputs (token store, logs)."""
    inputs = {"config.json", "catalog.json", "state.json"}
    return files_text(p for p in outcome.job.workdir.rglob("*") if p.name not in inputs)


def _outputs(outcome: Outcome) -> dict[str, str]:
    return {
        "stdout": outcome.stdout.decode("utf-8", "replace"),
        "stderr": outcome.stderr.decode("utf-8", "replace"),
        **_written_files(outcome),
    }


@pytest.mark.parametrize("connector", CONNECTORS)
@pytest.mark.parametrize("case", PAN_CASES, ids=[c.name for c in PAN_CASES])
def test_given_card_numbers_planted_in_answers_when_syncing_then_no_output_holds_an_unmasked_pan(
    case: PanCase, connector: Connector, runs: Runs
) -> None:
    """Records, error messages, logs, state and token store: masked to 6 + 4 digits at most, everywhere."""
    outcome = runs.pan[(case.name, connector)]
    outputs = _outputs(outcome)
    found = {where: pans for where, text in outputs.items() if (pans := find_pans(text))}
    planted = {where: hits for where, text in outputs.items() if (hits := find_planted(text, PLANTED_PANS))}
    records = sum(1 for m in outcome.messages if m.get("type") == "RECORD")
    finished = outcome.returncode == 0
    passed = not found and not planted and finished == case.completes
    figures = (
        f"exit {outcome.returncode}; {records} records; {sum(len(t) for t in outputs.values()) // 1024} KiB "
        f"scanned in {len(outputs)} outputs; unmasked PANs {sum(len(v) for v in found.values())}"
    )
    if found or planted:
        figures += f" in {sorted(set(found) | set(planted))}"
    report(f"PAN scan: {case.name}", connector, 1, passed, figures)
    assert passed, figures


def _secret_leaks(outcome: Outcome, secrets: dict[str, list[str]]) -> list[str]:
    connector = outcome.job.connector
    outputs = _outputs(outcome)
    lines = outputs["stdout"].split("\n")
    allowed_stdout = "\n".join(line for line in lines if '"CONNECTOR_CONFIG"' not in line)
    refresh_places = {**outputs, "stdout": allowed_stdout}
    if connector == "singer":
        refresh_places = {k: v for k, v in refresh_places.items() if not k.endswith("tokens.json")}
    # A rotation hands over the whole grant (refresh token, access token, expiry: docs/auth-flow.md),
    # so both tokens share the same two homes; an OTP has none.
    grant = {"refresh_token": secrets["refresh_tokens"], "access_token": secrets["access_tokens"]}
    leaks = find_secrets(refresh_places, grant)
    leaks += find_secrets(outputs, {"otp": secrets["otps"]})
    return [f"{leak.kind} in {Path(leak.where).name}" for leak in leaks]


@pytest.mark.parametrize("connector", CONNECTORS)
@pytest.mark.parametrize("command", COMMANDS)
def test_given_any_command_when_run_then_no_token_or_otp_appears_outside_its_one_home(
    command: str, connector: Connector, runs: Runs
) -> None:
    """OTPs never; refresh and access tokens only in CONNECTOR_CONFIG or the token store."""
    outcome = runs.commands[(command, connector)]
    leaks = _secret_leaks(outcome, runs.secrets)
    rotations = (
        sum(1 for m in outcome.messages if m.get("type") == "CONTROL")
        if connector == "airbyte"
        else int((outcome.job.workdir / "tokens.json").exists())
    )
    ok_exit = outcome.returncode == 0
    passed = ok_exit and not leaks
    figures = (
        f"exit {outcome.returncode}; {sum(len(v) for v in runs.secrets.values())} secrets known; "
        f"rotation evidence {rotations}; leaks {leaks or 'none'}"
    )
    report(f"secret scan: {command}", connector, 1, passed, figures)
    assert passed, figures if ok_exit else f"{figures}; stderr ends: {outcome.stderr[-3000:]!r}"


def test_given_the_read_when_tokens_expire_every_two_pages_then_refresh_tokens_really_rotated(
    runs: Runs,
) -> None:
    """The secret scan means something only if the reads rotated: several refresh tokens were issued."""
    airbyte = runs.commands[("read", "airbyte")]
    published = [m for m in airbyte.messages if m.get("type") == "CONTROL"]
    store = json.loads((runs.commands[("read", "singer")].job.workdir / "tokens.json").read_text() or "{}")
    assert len(published) >= 2, "the Airbyte read should have published several rotated tokens"
    assert store, "the Singer read should have stored its rotated token"


def test_given_an_all_digit_request_hash_in_an_audit_line_when_scanned_then_it_is_no_card_number() -> None:
    """The scanner knows the audit line's 16-hex-digit hash, and still finds a card number beside it."""
    hashed = '{"event":"api_call","request_hash":"4111111111111111","attempt":1}'
    assert find_pans(hashed) == []
    assert find_pans(hashed + ' "note":"4111111111111111"') == ["4111111111111111"]
