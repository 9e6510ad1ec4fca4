"""kill -9 at a random record, then resume from the last state the connector emitted.

At-least-once with checkpoints means: nothing lost, and the records re-sent after a resume are at
most the ones after the last checkpoint (plus, per partition, the records sharing the checkpoint's
cursor value, because ``since`` is inclusive). ``settlement_lag_days`` is 0 here: the settlement
re-read window is a deliberate re-read of seven days, not a resume cost.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from trastpay_sandbox.testing import SandboxServer

from .harness import (
    CONNECTORS,
    Connector,
    RunResult,
    compare_with_truth,
    connectors_in_ci,
    report,
    run_connector,
)

STREAMS = ("card_transactions", "transfers")
SETTINGS = {"page_size": 10, "settlement_lag_days": 0}


@pytest.fixture
def sandbox(small_sandbox: SandboxServer) -> SandboxServer:
    return small_sandbox


def _trials(sandbox: SandboxServer, connector: Connector, tmp_path: Path, trials: int, seed: int) -> None:
    chooser = random.Random(seed)
    clean = run_connector(connector, sandbox, tmp_path / "clean", streams=STREAMS, config_overrides=SETTINGS)
    assert clean.ok, clean.output_text[-3000:]
    total = clean.record_count
    interval = clean.max_records_between_states
    partitions = len(clean.states[-1].get("card_transactions", {})) + 1 if clean.states else 1
    worst_extra = lost_total = wrong_total = 0
    killed = 0
    for trial in range(trials):
        workdir = tmp_path / f"trial-{trial}"
        cut = chooser.randint(1, total - 1)
        first = run_connector(
            connector, sandbox, workdir, streams=STREAMS, config_overrides=SETTINGS, kill_after_records=cut
        )
        killed += first.killed
        second = run_connector(connector, sandbox, workdir, streams=STREAMS, state=first.final_state)
        assert second.ok, second.output_text[-3000:]
        runs: list[RunResult] = [first, second]
        comparisons = [compare_with_truth(sandbox, stream, runs) for stream in STREAMS]
        lost_total += sum(c.lost for c in comparisons)
        wrong_total += sum(c.wrong_after_dedup for c in comparisons)
        worst_extra = max(worst_extra, sum(c.raw_duplicates for c in comparisons))
    bound = interval + partitions
    passed = killed == trials and lost_total == 0 and wrong_total == 0 and worst_extra <= bound
    report(
        f"kill -9 at a random record, resume from the last state ({trials} trials)",
        connector,
        1 + 2 * trials,
        passed,
        f"{trials} trials over {total} records, lost {lost_total}, wrong after dedup {wrong_total}, "
        f"most records re-sent {worst_extra} (checkpoint every <= {interval} records; bound {bound})",
    )
    assert killed == trials
    assert (lost_total, wrong_total) == (0, 0)
    assert worst_extra <= bound, f"{worst_extra} records re-sent, more than one checkpoint's worth"


@pytest.mark.parametrize("connector", connectors_in_ci("airbyte"))
def test_given_a_kill_at_a_random_record_when_resuming_from_the_last_state_then_nothing_is_lost(
    sandbox: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    _trials(sandbox, connector, tmp_path, trials=1, seed=3)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("connector", CONNECTORS)
def test_given_many_kills_at_random_records_when_resuming_then_nothing_is_ever_lost(
    sandbox: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    _trials(sandbox, connector, tmp_path, trials=15, seed=20261128)
