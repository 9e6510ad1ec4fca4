"""Hostile API answers against both connectors: clear errors or byte-exact output, never a partial record.

Each case sets the sandbox's hostile switches (``trastpay_sandbox/hostile.py``) and runs a full
sync of one small stream with each connector, then judges what reached stdout:

* ``recovers``: a broken page once (200 with HTML, a truncated body, ``NaN``, an array instead of
  the page object) is retried and the sync ends like a clean one: 0 lost, 0 wrong vs the truth.
* ``fails``: the same breakage on every attempt, an item that is an array, a money/text field
  that changed type or a missing cursor: the run fails with the expected failure type and a
  message naming what is wrong; every record it did emit is complete and equals the truth.
* drift that keeps meaning (an added field, a removed optional field) and hostile strings (RTL,
  zero-width, NUL, CR/LF, U+2028, emoji, Uzbek apostrophes, 256 KiB strings in 1000-item pages):
  the output equals the truth byte for byte, one JSON message per line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from trastpay.cursors import parse_instant
from trastpay.streams import get_stream
from trastpay_sandbox.hostile import HOSTILE_SAMPLES
from trastpay_sandbox.testing import SandboxServer

from .bad_input import RECORD_SECRETS, fresh_config, phone_of, read_job, shared_sandbox
from .forked import Connector, Job, Outcome, run_forked
from .harness import CONNECTORS, report


@dataclass(frozen=True)
class Case:
    name: str
    stream: str
    switches: dict[str, Any]
    expect: str  # "complete" or "fails"
    failure_types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    page_size: int = 10
    fired: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    slow: bool = False


def _corrupt(kind: str, selector: dict[str, int], stream: str = "transfers") -> dict[str, Any]:
    return {"corrupt_page": {"kind": kind, "stream": stream, **selector}}


def _drift(stream: str, **change: str) -> dict[str, Any]:
    return {"schema_drift": {"stream": stream, **change}}


CASES: tuple[Case, ...] = (
    *(
        Case(
            f"{kind} page once", "transfers", _corrupt(kind, {"next_n": 1}), "complete", fired="corrupt_page"
        )
        for kind in ("html", "truncated", "nan", "array")
    ),
    Case(
        "html page always",
        "transfers",
        _corrupt("html", {"every_n": 1}),
        "fails",
        ("transient_error",),
        ("not valid JSON",),
    ),
    Case(
        "truncated page always",
        "transfers",
        _corrupt("truncated", {"every_n": 1}),
        "fails",
        ("transient_error",),
        ("not valid JSON",),
    ),
    Case(
        "NaN page always",
        "transfers",
        _corrupt("nan", {"every_n": 1}),
        "fails",
        ("transient_error",),
        ("not valid JSON",),
    ),
    Case(
        "array page always",
        "transfers",
        _corrupt("array", {"every_n": 1}),
        "fails",
        ("transient_error",),
        ("not an object",),
    ),
    Case(
        "item is an array",
        "transfers",
        _corrupt("item_array", {"next_n": 1}),
        "fails",
        ("system_error",),
        ("'transfers'", "not a JSON object"),
    ),
    Case(
        "drift: added field",
        "card_transactions",
        _drift("card_transactions", add_field="loyalty_tier"),
        "complete",
        page_size=25,
    ),
    Case(
        "drift: removed optional field",
        "card_transactions",
        _drift("card_transactions", remove_field="merchant_city"),
        "complete",
        page_size=25,
    ),
    Case(
        "drift: money field turned float",
        "transfers",
        _drift("transfers", change_type="amount_minor"),
        "fails",
        ("system_error",),
        ("'transfers'", "'amount_minor'"),
    ),
    Case(
        "drift: status turned number",
        "transfers",
        _drift("transfers", change_type="status"),
        "fails",
        ("system_error",),
        ("'transfers'", "'status'"),
    ),
    Case(
        "drift: boolean turned text",
        "transfers",
        _drift("transfers", change_type="free_limit_applied"),
        "fails",
        ("system_error",),
        ("'transfers'", "'free_limit_applied'"),
    ),
    Case(
        "drift: cursor removed",
        "transfers",
        _drift("transfers", remove_field="updated_at"),
        "fails",
        ("system_error",),
        ("'transfers'", "'updated_at'"),
    ),
    Case(
        "hostile strings",
        "card_transactions",
        {"hostile_strings": {}},
        "complete",
        page_size=25,
        fired="hostile_strings",
    ),
    Case(
        "huge page, 256 KiB strings",
        "transfers",
        {"hostile_strings": {"streams": ["transfers"], "pad_kb": 256}, "huge_page": {"page_size": 1000}},
        "complete",
        page_size=5,
        fired="huge_page",
    ),
    Case(
        "huge page, 1 MiB strings",
        "card_transactions",
        {
            "hostile_strings": {"streams": ["card_transactions"], "fields": ["description"], "pad_kb": 1024},
            "huge_page": {"page_size": 1000},
        },
        "complete",
        page_size=5,
        fired="huge_page",
        slow=True,
    ),
)


def _records(outcome: Outcome, stream: str) -> list[dict[str, Any]]:
    found = []
    for message in outcome.messages:
        if message.get("type") != "RECORD":
            continue
        if outcome.job.connector == "airbyte" and message["record"]["stream"] == stream:
            found.append(message["record"]["data"])
        elif outcome.job.connector == "singer" and message["stream"] == stream:
            found.append(message["record"])
    return found


def compare(
    emitted: list[dict[str, Any]], truth: list[dict[str, Any]], stream: str, start_date: str
) -> tuple[int, int, list[str]]:
    """``(lost, wrong, examples)``: truth records (cursor >= start) never emitted, and emitted records
    that differ from the truth in any field (a missing field counts as null), compared exactly."""
    definition = get_stream(stream)
    start = parse_instant(start_date)

    def key(record: dict[str, Any]) -> tuple[str, ...]:
        return tuple(str(record.get(k)) for k in definition.primary_key)

    cursor = definition.cursor_field
    expected = {
        key(r): r for r in truth if cursor is None or (r.get(cursor) and parse_instant(r[cursor]) >= start)
    }
    everything = {key(r): r for r in truth}
    seen: set[tuple[str, ...]] = set()
    wrong: list[str] = []
    for record in emitted:
        seen.add(key(record))
        reference = everything.get(key(record))
        if reference is None:
            wrong.append(f"{key(record)} not in truth")
            continue
        differing = [f for f in set(record) | set(reference) if record.get(f) != reference.get(f)]
        if differing:
            wrong.append(f"{key(record)} differs in {sorted(differing)}")
    lost = len(set(expected) - seen)
    return lost, len(wrong), wrong[:3]


def _error_text(outcome: Outcome) -> tuple[list[str], str]:
    if outcome.job.connector == "airbyte":
        traces = [
            m["trace"]["error"]
            for m in outcome.messages
            if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR"
        ]
        # The CDK closes a failed sync with a summary trace that is always config_error by design
        # ("not actionable, see the stream errors"): judge the per-stream errors when there are any.
        traces = [t for t in traces if t.get("stream_descriptor")] or traces
        return [str(t.get("failure_type")) for t in traces], " ".join(str(t.get("message")) for t in traces)
    stderr = outcome.stderr.decode("utf-8", "replace")
    kinds = [k for k in ("config_error", "transient_error", "system_error") if f"{k}:" in stderr]
    return kinds, stderr


def _line_problems(outcome: Outcome, records: int) -> list[str]:
    """One complete JSON message per stdout line: no raw CR, no line that is not a JSON object."""
    problems = []
    if b"\r" in outcome.stdout:
        problems.append("raw CR in stdout")
    record_lines = 0
    for line in outcome.stdout.split(b"\n"):
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError:
            problems.append(f"line is not JSON: {line[:60]!r}")
            continue
        if not isinstance(message, dict):
            problems.append("line is not a JSON object")
        elif message.get("type") == "RECORD":
            record_lines += 1
    if record_lines != records:
        problems.append(f"{record_lines} RECORD lines for {records} records")
    return problems


@dataclass
class Verdict:
    passed: bool
    figures: str


def judge(case: Case, outcome: Outcome, truth: list[dict[str, Any]], start_date: str) -> Verdict:
    records = _records(outcome, case.stream)
    lost, wrong, examples = compare(records, truth, case.stream, start_date)
    kinds, message = _error_text(outcome)
    lines = _line_problems(outcome, sum(1 for m in outcome.messages if m.get("type") == "RECORD"))
    counters = json.loads(outcome.after).get("counters", {}) if outcome.after else {}
    fired = counters.get(case.fired, 0) if case.fired else None
    if case.expect == "complete":
        passed = (
            outcome.returncode == 0 and not kinds and lost == 0 and wrong == 0 and not lines and fired != 0
        )
        figures = f"exit {outcome.returncode}; {len(records)} records, lost {lost}, wrong {wrong}"
    else:
        named = all(n in message for n in case.names)
        passed = outcome.returncode != 0 and bool(kinds) and set(kinds) <= set(case.failure_types) and named
        passed = passed and wrong == 0 and not lines
        figures = (
            f"exit {outcome.returncode}; {kinds}; names {list(case.names)}: {named}; "
            f"{len(records)} complete records, wrong {wrong}"
        )
    if fired is not None:
        figures += f"; {case.fired} fired {fired}x"
    if examples or lines:
        figures += f"; {examples + lines}"
    return Verdict(passed, figures)


@pytest.fixture(scope="module")
def outcomes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SandboxServer, dict[tuple[str, str], Outcome]]]:
    """Every CI case with both connectors, one after the other, each under its own switches."""
    sandbox = shared_sandbox()
    root = tmp_path_factory.mktemp("hostile")
    yield sandbox, _run_cases(sandbox, root, [c for c in CASES if not c.slow])
    sandbox.set_faults(RECORD_SECRETS)


def _run_cases(sandbox: SandboxServer, root: Path, cases: list[Case]) -> dict[tuple[str, str], Outcome]:
    jobs: list[tuple[tuple[str, str], Job]] = []
    faults_url = sandbox.base_url + "/_sandbox/faults"
    for index, case in enumerate(cases):
        for connector in CONNECTORS:
            workdir = root / f"{index:02d}-{connector}"
            config = fresh_config(
                sandbox, workdir, f"hostile-{index}-{connector}", page_size=case.page_size, **case.overrides
            )
            job = read_job(connector, workdir, config, [case.stream])
            job.before = ("POST", faults_url, {**RECORD_SECRETS, **case.switches})
            job.after = faults_url
            jobs.append(((case.name, connector), job))
    found = run_forked([job for _, job in jobs], timeout=900)
    return {name: outcome for (name, _), outcome in zip(jobs, found, strict=True)}


def _truth(sandbox: SandboxServer, case: Case) -> list[dict[str, Any]]:
    """The truth as the hostile routes served it (switches on), read after the run."""
    sandbox.set_faults({**RECORD_SECRETS, **case.switches})
    try:
        return sandbox.truth(case.stream, phone_of(sandbox))
    finally:
        sandbox.set_faults(RECORD_SECRETS)


def _check(case: Case, connector: Connector, sandbox: SandboxServer, outcome: Outcome) -> None:
    verdict = judge(case, outcome, _truth(sandbox, case), "2026-09-01")
    report(f"hostile: {case.name}", connector, 1, verdict.passed, verdict.figures)
    assert verdict.passed, verdict.figures


@pytest.mark.parametrize("connector", CONNECTORS)
@pytest.mark.parametrize("case", [c for c in CASES if not c.slow], ids=[c.name for c in CASES if not c.slow])
def test_given_hostile_answer_when_syncing_then_clear_error_or_exact_output_never_partial_record(
    case: Case, connector: Connector, outcomes: tuple[SandboxServer, dict[tuple[str, str], Outcome]]
) -> None:
    """See the module docstring for what each kind of case must show."""
    sandbox, found = outcomes
    _check(case, connector, sandbox, found[(case.name, connector)])


@pytest.mark.slow
@pytest.mark.parametrize("connector", CONNECTORS)
@pytest.mark.parametrize("case", [c for c in CASES if c.slow], ids=[c.name for c in CASES if c.slow])
def test_given_huge_answer_when_syncing_then_output_is_exact(
    case: Case, connector: Connector, tmp_path: Path
) -> None:
    """Pages of 1000 items with megabyte strings: exact output, memory is the connector's problem only."""
    sandbox = shared_sandbox()
    found = _run_cases(sandbox, tmp_path, [case])
    sandbox.set_faults(RECORD_SECRETS)
    _check(case, connector, sandbox, found[(case.name, connector)])


def test_given_hostile_samples_then_every_class_of_trouble_is_present() -> None:
    """The samples are the contract of the hostile-strings case: losing one would weaken it silently."""
    joined = "".join(HOSTILE_SAMPLES)
    for needle in (
        "\u02bb",
        "\u2019",
        "\u2018",
        "\u200f",
        "\u202e",
        "\u200b",
        "\u200d",
        "\ufeff",
        "\x00",
        "\r\n",
        "\u2028",
        "\U0001f1fa",
        "\u0301",
    ):
        assert needle in joined, repr(needle)
