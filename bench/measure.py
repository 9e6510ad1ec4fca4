"""Run one client as a subprocess and measure it: records, wall time, CPU seconds, peak RSS.

The child writes to a pipe that this process drains in 1 MiB chunks, counting records with
``bytes.count`` (a C-speed scan, no per-line Python work), so counting adds almost nothing to the
child's figures; the child itself never knows it is watched. CPU and peak RSS come from
``os.wait4`` of that one child, so neither the sandbox nor earlier runs leak into them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

CHUNK = 1 << 20

#: How a client's output marks one record: raw JSON lines are one record per newline; the
#: Airbyte and Singer protocols print compact or spaced RECORD messages, one per line.
LINES = (b"\n",)
MESSAGES = (b'{"type":"RECORD"', b'{"type": "RECORD"')


@dataclass(frozen=True)
class Run:
    """One measured run of one client."""

    records: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    exit_code: int


@dataclass
class Result:
    """Every run of one client and their medians."""

    client: str
    runs: list[Run] = field(default_factory=list)
    startup_s: float | None = None

    @property
    def records(self) -> int:
        return max(run.records for run in self.runs)

    @property
    def records_per_s(self) -> float:
        return statistics.median(run.records / run.wall_s for run in self.runs)

    @property
    def wall_s(self) -> float:
        return statistics.median(run.wall_s for run in self.runs)

    @property
    def cpu_s(self) -> float:
        return statistics.median(run.cpu_s for run in self.runs)

    @property
    def records_per_cpu_s(self) -> float:
        """Records per CPU-second of the client process alone (the sandbox's CPU is not in it)."""
        return statistics.median(run.records / max(run.cpu_s, 1e-9) for run in self.runs)

    @property
    def peak_rss_mb(self) -> float:
        return max(run.peak_rss_mb for run in self.runs)


class ClientFailed(RuntimeError):
    """A client exited non-zero; carries the tail of its stderr."""


def _count(data: bytes, markers: Sequence[bytes]) -> int:
    return sum(data.count(marker) for marker in markers)


def run_client(command: Sequence[str], markers: Sequence[bytes], *, env: dict[str, str] | None = None) -> Run:
    """Run ``command`` to completion, counting ``markers`` in its stdout; raise if it fails.

    stderr goes to a temporary file, never a pipe, so a chatty logger cannot stall the child.
    """
    keep = max(len(marker) for marker in markers) - 1
    with tempfile.TemporaryFile() as errors_file:
        began = time.perf_counter()
        process = subprocess.Popen(
            list(command), stdout=subprocess.PIPE, stderr=errors_file, stdin=subprocess.DEVNULL, env=env
        )
        assert process.stdout is not None
        records = 0
        tail = last = b""
        while chunk := os.read(process.stdout.fileno(), CHUNK):
            window = tail + chunk
            records += _count(window, markers) - _count(tail, markers)
            tail = window[-keep:] if keep else b""
            last = (last + chunk[-4000:])[-4000:]
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        process.stdout.close()
        errors_file.seek(0)
        errors = errors_file.read()
    if process.returncode != 0:
        text = (errors[-2000:] + b"\n" + last[-2000:]).decode("utf-8", "replace")
        raise ClientFailed(f"{' '.join(command[:3])} exited {process.returncode}:\n{text}")
    return Run(
        records=records,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        exit_code=process.returncode,
    )


def time_command(command: Sequence[str], *, env: dict[str, str] | None = None) -> float:
    """Wall seconds of a command whose output is discarded (start-up cost); raise if it fails."""
    began = time.perf_counter()
    completed = subprocess.run(
        list(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False
    )
    elapsed = time.perf_counter() - began
    if completed.returncode != 0:
        text = completed.stderr.decode("utf-8", "replace")[-2000:]
        raise ClientFailed(f"{command[0]} exited {completed.returncode}:\n{text}")
    return elapsed
