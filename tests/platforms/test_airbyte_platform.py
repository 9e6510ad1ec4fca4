"""Airbyte's own persistence rules, applied to the real source: no sync ever costs a new OTP login.

See platform_sim.py for the rules and where they were read. The schedule: create the source (its
check's control message discarded), then N syncs of check + read with the config snapshot taken at
sync start, the sandbox clock advanced between syncs (mostly by more than the access token lifetime).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trastpay_sandbox.testing import SandboxServer

from .platform_sim import AirbytePlatform, cli_login, data_mismatches, token_counters

STREAMS = ("cards", "transfers")


def gap(sync: int) -> str:
    """Every third gap is shorter than the access token lifetime, the others longer."""
    return "PT3M" if sync % 3 == 2 else "PT1H"


def simulate(sandbox: SandboxServer, workdir: Path, syncs: int) -> tuple[AirbytePlatform, dict[str, int]]:
    phone = str(sandbox.customers()[0]["phone"])
    device = "sim-airbyte"

    def relogin() -> dict[str, str]:
        return cli_login(sandbox, phone, "airbyte", workdir, device)

    platform = AirbytePlatform(sandbox, workdir, STREAMS)
    platform.create_source(cli_login(sandbox, phone, "airbyte", workdir, device))
    for sync in range(syncs):
        sandbox.advance(gap(sync))
        platform.sync(relogin)
    return platform, token_counters(sandbox)


def _judge(platform: AirbytePlatform, counters: dict[str, int], sandbox: SandboxServer, syncs: int) -> None:
    outcome = platform.outcome
    phone = str(sandbox.customers()[0]["phone"])
    assert outcome.forced_relogins == 0, outcome.failed_syncs
    assert counters["spent_presented"] == 0, counters
    assert outcome.failed_syncs == []
    assert outcome.syncs == syncs
    assert data_mismatches(sandbox, phone, outcome.records, STREAMS) == []
    # one rotation at most per sync, none for the syncs inside the access token's lifetime
    assert counters["refreshes"] <= syncs


def test_given_airbyte_rules_when_creating_a_source_and_syncing_5_times_then_no_relogin_and_exact_data(
    short_token_sandbox: SandboxServer, tmp_path: Path
) -> None:
    platform, counters = simulate(short_token_sandbox, tmp_path, syncs=5)
    _judge(platform, counters, short_token_sandbox, syncs=5)


@pytest.mark.slow
@pytest.mark.timeout(3600)  # some 70 connector processes, a few seconds each
def test_given_airbyte_rules_when_syncing_30_times_then_no_relogin_no_spent_token_and_exact_data(
    short_token_sandbox: SandboxServer, tmp_path: Path
) -> None:
    platform, counters = simulate(short_token_sandbox, tmp_path, syncs=30)
    _judge(platform, counters, short_token_sandbox, syncs=30)
