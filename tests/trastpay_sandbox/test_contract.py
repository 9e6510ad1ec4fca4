"""Schemathesis against a live sandbox: every answer matches the contract, and nothing is a 5xx.

Runs the ``st run`` CLI (through :func:`trastpay_sandbox.testing.run_contract`) with faults off,
a logged-in token and real ids pinned for the path parameters. Checks: not_a_server_error,
response_schema_conformance, status_code_conformance and content_type_conformance, over every
operation except the state-changing ``/_sandbox`` hooks, with a bounded example count so it stays
under two minutes on an idle two-core machine. It runs in CI: it is the sandbox's contract gate.
"""

from __future__ import annotations

import pytest

from trastpay_sandbox.testing import run_contract


@pytest.mark.timeout(300)
def test_given_live_sandbox_when_fuzzed_then_every_answer_conforms_to_openapi() -> None:
    result = run_contract(max_examples=3, capture=True)

    report = result.stdout[-20_000:]
    assert result.returncode == 0, (
        f"schemathesis found contract violations:\n{report}\n{result.stderr[-6000:]}"
    )
    server_log = result.stderr.partition("--- sandbox log ---")[2]
    assert "Traceback" not in server_log, server_log
