"""Run many short connector commands quickly: import a connector once, fork one child per command.

Starting ``source-trastpay`` costs seconds of imports (airbyte-cdk, pydantic models) on this
machine, so 30 invalid configs x 3 commands as fresh processes would not fit the CI budget. This
module is a small "zygote": ``python forked.py jobs.json results.json`` imports the entry point
the console script uses (``source_trastpay.run:run`` or ``tap_trastpay.tap:TapTrastpay.cli``),
then forks one child per job. Each child is a real process running the real entry point with its
own ``sys.argv``, file descriptors 1 and 2 redirected to files, the entry point's own exception
hooks and exit code, exactly as the console script would run it (only the imports are shared).
:func:`run_forked` is the test-side API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

Connector = Literal["airbyte", "singer"]
_HERE = Path(__file__)


@dataclass
class Job:
    """One command: ``argv`` after the executable name, e.g. ``["check", "--config", path]``."""

    connector: Connector
    argv: list[str]
    workdir: Path
    before: tuple[str, str, Any] | None = None
    """``(method, url, json body)`` sent once every earlier job has ended, before this one starts
    (how a case sets the sandbox's fault switches for its own run)."""
    after: str | None = None
    """A URL fetched (GET) right after this job ends, before any other starts; its body is
    :attr:`Outcome.after` (how a case reads the sandbox's fault counters of its own run)."""


@dataclass
class Outcome:
    """What one forked command did."""

    job: Job
    returncode: int
    stdout: bytes
    stderr: bytes
    after: bytes = b""

    @property
    def messages(self) -> list[dict[str, Any]]:
        found = []
        for line in self.stdout.split(b"\n"):
            if line.startswith(b"{"):
                try:
                    message = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(message, dict):
                    found.append(message)
        return found

    @property
    def text(self) -> str:
        return (self.stdout + b"\n" + self.stderr).decode("utf-8", errors="replace")


def run_forked(jobs: list[Job], *, timeout: float = 300.0, parallel: int = 2) -> list[Outcome]:
    """Run ``jobs``, outcomes in job order: one zygote per connector, the Airbyte one first.

    A zygote never imports both SDKs: importing airbyte-cdk reconfigures the root logger to print
    Airbyte LOG messages on stdout, which would corrupt a Singer child's output.
    """
    found: dict[int, Outcome] = {}
    for connector in ("airbyte", "singer"):
        chosen = [(i, job) for i, job in enumerate(jobs) if job.connector == connector]
        if chosen:
            for (i, _), outcome in zip(
                chosen, _run_zygote([j for _, j in chosen], timeout, parallel), strict=True
            ):
                found[i] = outcome
    return [found[i] for i in range(len(jobs))]


def _run_zygote(jobs: list[Job], timeout: float, parallel: int) -> list[Outcome]:
    spool = jobs[0].workdir.parent / f"zygote-{jobs[0].connector}-{os.getpid()}-{id(jobs)}"
    spool.mkdir(parents=True, exist_ok=True)
    plan: list[dict[str, Any]] = [
        {
            "connector": j.connector,
            "argv": j.argv,
            "before": j.before,
            "after": j.after,
            "after_out": str(spool / f"{i}.after"),
            "out": str(spool / f"{i}.out"),
            "err": str(spool / f"{i}.err"),
        }
        for i, j in enumerate(jobs)
    ]
    jobs_path, results_path = spool / "jobs.json", spool / "results.json"
    jobs_path.write_text(
        json.dumps({"parallel": parallel, "connector": jobs[0].connector, "jobs": plan}), encoding="utf-8"
    )
    subprocess.run(
        [sys.executable, str(_HERE), str(jobs_path), str(results_path)], check=True, timeout=timeout
    )
    codes: list[int] = json.loads(results_path.read_text(encoding="utf-8"))
    outcomes = []
    for job, code, entry in zip(jobs, codes, plan, strict=True):
        after = Path(entry["after_out"])
        outcomes.append(
            Outcome(
                job,
                code,
                Path(entry["out"]).read_bytes(),
                Path(entry["err"]).read_bytes(),
                after.read_bytes() if after.exists() else b"",
            )
        )
    return outcomes


def _child(connector: str, argv: list[str], out: str, err: str) -> None:
    """In the forked child: become the console script and never return."""
    code = 1
    try:
        out_fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err_fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        try:
            if connector == "airbyte":
                from source_trastpay.run import run

                sys.argv = ["source-trastpay", *argv]
                run()
            else:
                from tap_trastpay.tap import TapTrastpay

                sys.argv = ["tap-trastpay", *argv]
                TapTrastpay.cli()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            if isinstance(stop.code, str):
                sys.stderr.write(stop.code + "\n")
        except BaseException:
            exc_type, exc, tb = sys.exc_info()
            assert exc_type is not None
            assert exc is not None
            sys.excepthook(exc_type, exc, tb)
            code = 1
        import atexit
        import logging

        atexit._run_exitfuncs()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _send(method: str, url: str, body: Any) -> bytes:
    import urllib.request

    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as answer:
        return bytes(answer.read())


def _alone(entry: dict[str, Any]) -> bool:
    return entry["before"] is not None or entry["after"] is not None


def _zygote(jobs_path: str, results_path: str) -> None:
    document = json.loads(Path(jobs_path).read_text(encoding="utf-8"))
    # Warm the imports every child shares; never both SDKs (see run_forked).
    if document["connector"] == "airbyte":
        import source_trastpay.run  # noqa: F401
    else:
        import tap_trastpay.tap  # noqa: F401
    plan: list[dict[str, Any]] = document["jobs"]
    parallel = max(1, int(document["parallel"]))
    codes: dict[int, int] = {}
    running: dict[int, int] = {}
    next_job = 0
    sys.stdout.flush()
    sys.stderr.flush()
    while next_job < len(plan) or running:
        while next_job < len(plan) and len(running) < parallel:
            entry = plan[next_job]
            if running and (_alone(entry) or any(_alone(plan[i]) for i in running.values())):
                break
            if entry["before"] is not None:
                _send(*entry["before"])
            pid = os.fork()
            if pid == 0:
                _child(entry["connector"], entry["argv"], entry["out"], entry["err"])
            running[pid] = next_job
            next_job += 1
        pid, status = os.wait()
        if pid in running:
            index = running.pop(pid)
            codes[index] = os.waitstatus_to_exitcode(status)
            if plan[index]["after"] is not None:
                Path(plan[index]["after_out"]).write_bytes(_send("GET", plan[index]["after"], None))
    Path(results_path).write_text(json.dumps([codes[i] for i in range(len(plan))]), encoding="utf-8")


if __name__ == "__main__":
    _zygote(sys.argv[1], sys.argv[2])
