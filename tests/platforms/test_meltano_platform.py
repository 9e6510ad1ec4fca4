"""Meltano's rules (a fresh tap process per ``meltano run``, token store on a mounted volume).

See platform_sim.py for the rules and where they were read. The login is `trastpay auth login --for
singer`, whose printed config is used unchanged; one run happens on a worker without the volume.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trastpay.token_store import TokenStore
from trastpay_sandbox.testing import SandboxServer

from .platform_sim import MeltanoWorker, cli_login, data_mismatches, token_counters

STREAMS = ("cards", "transfers")


def simulate(sandbox: SandboxServer, workdir: Path, runs: int, unmounted_run: int) -> MeltanoWorker:
    phone = str(sandbox.customers()[0]["phone"])
    config = cli_login(sandbox, phone, "singer", workdir, "sim-meltano")
    worker = MeltanoWorker(sandbox, workdir, config, STREAMS)
    for number in range(runs):
        sandbox.advance("PT3M" if number % 3 == 2 else "PT1H")
        if number == unmounted_run:
            done = worker.run(store_mounted=False)
            assert done.returncode == 1
            assert "token_store_path" in done.stderr
            assert "mount or restore" in done.stderr
        worker.run()
    return worker


def _judge(worker: MeltanoWorker, sandbox: SandboxServer, runs: int, workdir: Path) -> None:
    counters = token_counters(sandbox)
    outcome = worker.outcome
    phone = str(sandbox.customers()[0]["phone"])
    assert outcome.forced_relogins == 0, outcome.failed_syncs
    assert counters["spent_presented"] == 0, counters
    assert len(outcome.failed_syncs) == 1  # the run without the volume, and only that one
    assert outcome.syncs == runs + 1
    assert counters["refreshes"] <= runs
    assert data_mismatches(sandbox, phone, outcome.records, STREAMS) == []
    stored = TokenStore(workdir / "tokens" / "store.json").load_tokens()
    assert stored is not None
    assert stored.access_token is not None


def test_given_meltano_runs_on_ephemeral_workers_when_5_runs_and_one_without_the_store_then_no_relogin(
    short_token_sandbox: SandboxServer, tmp_path: Path
) -> None:
    worker = simulate(short_token_sandbox, tmp_path, runs=5, unmounted_run=2)
    _judge(worker, short_token_sandbox, 5, tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(3600)  # some 70 connector processes, a few seconds each
def test_given_meltano_runs_on_ephemeral_workers_when_30_runs_then_no_relogin_no_spent_token(
    short_token_sandbox: SandboxServer, tmp_path: Path
) -> None:
    worker = simulate(short_token_sandbox, tmp_path, runs=30, unmounted_run=17)
    _judge(worker, short_token_sandbox, 30, tmp_path)
