"""Run either connector as a user does and judge its output against the sandbox's truth.

Every reliability case runs against both connectors (:data:`CONNECTORS`). :func:`run_connector`
logs in with an OTP (first run in a ``workdir``), writes config, catalog and state files there and
runs the real console script as a subprocess, parsing its stdout as it streams, so a case can
SIGKILL it at a chosen record or line. One ``workdir`` is one connection: later runs reuse its
config, and after an Airbyte run the newest CONNECTOR_CONFIG control message is written back to
the config file, as the platform does; the Singer tap keeps its token store in the same folder.

:func:`lost_and_duplicates` compares what reached the output with ``/_sandbox/truth/{stream}``.
:func:`report` adds a row to the session's summary table (see ``conftest.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from trastpay.cursors import parse_instant
from trastpay.schemas import load_schema
from trastpay.streams import EMITTED_BY_NAME, STREAMS_BY_NAME, SYNC_AUDIT, get_stream
from trastpay_sandbox.login_config import CLIENT_ID, login_config
from trastpay_sandbox.testing import SandboxServer
from trastpay_sandbox.verify import compare_stream

from ..tap_trastpay.tap_harness import START_DATE

Connector = Literal["airbyte", "singer"]
CONNECTORS: tuple[Connector, ...] = ("airbyte", "singer")
BIN = Path(sys.executable).parent
EXECUTABLES: dict[str, Path] = {"airbyte": BIN / "source-trastpay", "singer": BIN / "tap-trastpay"}
CRASH_LAUNCHER = Path(__file__).with_name("crash_launcher.py")
RSS_LAUNCHER = Path(__file__).with_name("rss_launcher.py")
_AIRBYTE_CATALOG = Path(__file__).resolve().parents[2] / "integration_tests" / "configured_catalog.json"
Collect = Literal["all", "digest"]

__all__ = [
    "CLIENT_ID",
    "CONNECTORS",
    "START_DATE",
    "Comparison",
    "RunResult",
    "compare_with_truth",
    "connector_config",
    "connectors_in_ci",
    "is_refresh",
    "lost_and_duplicates",
    "messages_after_error",
    "record_digest",
    "report",
    "request_identity",
    "request_journal",
    "run_command",
    "run_connector",
]


@dataclass
class RunResult:
    """What one connector process did: its output parsed, its exit and its resource use.

    ``records``: per stream, the record dicts (``collect="digest"``: only primary key, cursor and
    ``_digest``, for runs too large to hold). ``messages`` holds every parsed stdout message
    (without RECORDs in digest mode). ``states``: after each STATE message, the cumulative cursors
    per stream as ``{stream: {partition key or "": cursor}}``, comparable across connectors.
    ``final_state``: what the same connector accepts back as ``--state``.
    """

    connector: Connector
    returncode: int
    stdout: bytes
    stderr: bytes
    messages: list[dict[str, Any]]
    records: dict[str, list[dict[str, Any]]]
    states: list[dict[str, dict[str, str]]]
    final_state: Any
    wall_s: float
    peak_rss_mb: float
    config_path: Path
    token_store_path: Path | None
    phone: str | None = None
    start_date: str = START_DATE
    killed: bool = False
    timed_out: bool = False
    records_before_state: list[int] = field(default_factory=list)
    record_count: int = 0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.error_traces

    @property
    def error_traces(self) -> list[dict[str, Any]]:
        """Airbyte TRACE messages of type ERROR (``failure_type``, ``message``...)."""
        return [
            m["trace"]["error"]
            for m in self.messages
            if m.get("type") == "TRACE" and m.get("trace", {}).get("type") == "ERROR"
        ]

    @property
    def failure_types(self) -> list[str]:
        """Failure types the run reported: Airbyte traces, or the tap's ``<type>: <message>`` line."""
        if self.connector == "airbyte":
            return [str(t.get("failure_type")) for t in self.error_traces]
        found = re.findall(rb"\b(config_error|transient_error|system_error):", self.stderr)
        return [f.decode() for f in found]

    @property
    def control_configs(self) -> list[dict[str, Any]]:
        """Configs the Airbyte source published in CONNECTOR_CONFIG control messages, in order."""
        return [
            m["control"]["connectorConfig"]["config"]
            for m in self.messages
            if m.get("type") == "CONTROL" and m.get("control", {}).get("type") == "CONNECTOR_CONFIG"
        ]

    @property
    def output_text(self) -> str:
        """stdout and stderr as text, for scans (secrets, PANs, tracebacks)."""
        return (self.stdout + b"\n" + self.stderr).decode("utf-8", errors="replace")

    @property
    def max_records_between_states(self) -> int:
        """The longest run of records with no STATE message after it (the tail counts too)."""
        return max(self.records_before_state, default=self.record_count)

    def count(self, stream: str) -> int:
        return len(self.records.get(stream, []))


# --- configs, catalogs, state files --------------------------------------------------------------


def connector_config(
    connector: Connector,
    sandbox: SandboxServer,
    workdir: Path,
    *,
    phone: str | None = None,
    device_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A config from a fresh OTP login (``phone`` default: the first customer), written to workdir.

    The Singer config names a token store inside ``workdir``; the Airbyte one has none.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    chosen = phone or str(sandbox.customers()[0]["phone"])
    device = device_id or f"rel-{connector}-{workdir.name}"[-100:]
    store = workdir / "refresh-token.json" if connector == "singer" else None
    config = login_config(
        sandbox,
        phone=chosen,
        device_id=device,
        start_date=START_DATE,
        token_store_path=store,
        **(overrides or {}),
    )
    _write_private(workdir / "config.json", config)
    (workdir / "phone.txt").write_text(chosen, encoding="utf-8")
    return config


def _write_private(path: Path, document: Any) -> None:
    path.touch(mode=0o600)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))


def _catalog(connector: Connector, config: Mapping[str, Any], streams: Sequence[str]) -> dict[str, Any]:
    unknown = [s for s in streams if s not in EMITTED_BY_NAME]
    if unknown:
        raise ValueError(f"unknown streams {unknown}")
    if connector == "airbyte":
        document = json.loads(_AIRBYTE_CATALOG.read_text(encoding="utf-8"))
        entries = [e for e in document["streams"] if e["stream"]["name"] in streams]
        if SYNC_AUDIT.name in streams and all(e["stream"]["name"] != SYNC_AUDIT.name for e in entries):
            entries.append(_audit_entry())
        for entry in entries:
            supported = entry["stream"]["supported_sync_modes"]
            entry["sync_mode"] = "incremental" if "incremental" in supported else "full_refresh"
        return {"streams": entries}
    from tap_trastpay.tap import TapTrastpay

    catalog: dict[str, Any] = TapTrastpay(config=dict(config), parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def _audit_entry() -> dict[str, Any]:
    """The configured-catalog entry of ``sync_audit`` (not in the acceptance tests' catalog)."""
    return {
        "stream": {
            "name": SYNC_AUDIT.name,
            "json_schema": load_schema(SYNC_AUDIT.name),
            "supported_sync_modes": ["full_refresh"],
            "source_defined_primary_key": [[k] for k in SYNC_AUDIT.primary_key],
        },
        "sync_mode": "full_refresh",
        "destination_sync_mode": "append",
    }


def _command(
    connector: Connector, workdir: Path, config_path: Path, state: Any, *, launcher: Sequence[str] = ()
) -> list[str]:
    catalog = workdir / "catalog.json"
    if connector == "airbyte":
        argv = [*launcher, "airbyte"] if launcher else [str(EXECUTABLES["airbyte"])]
        argv += ["read", "--config", str(config_path), "--catalog", str(catalog)]
    else:
        argv = [*launcher, "singer"] if launcher else [str(EXECUTABLES["singer"])]
        argv += ["--config", str(config_path), "--catalog", str(catalog)]
    if state is not None:
        state_path = workdir / "state.json"
        state_path.write_bytes(orjson.dumps(state))
        argv += ["--state", str(state_path)]
    return argv


# --- running a process and reading its output ----------------------------------------------------


@dataclass
class _Reader:
    connector: Connector
    collect: Collect
    keep_stdout: bool
    kill_after_records: int | None
    kill_when: Callable[[dict[str, Any]], bool] | None
    kill_on: bytes | None
    messages: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    states: list[dict[str, dict[str, str]]] = field(default_factory=list)
    last_state: dict[str, Any] = field(default_factory=dict)
    raw_state: Any = None
    kept: list[bytes] = field(default_factory=list)
    record_count: int = 0
    since_state: int = 0
    gaps: list[int] = field(default_factory=list)

    def feed(self, line: bytes) -> bool:
        """Take one stdout line; answers True when the process should be killed now."""
        if self.keep_stdout:
            self.kept.append(line)
        stripped = line.strip()
        kill = self.kill_on is not None and self.kill_on in line
        if not stripped.startswith(b"{"):
            if not self.keep_stdout and stripped:
                self.kept.append(line)
            return kill
        try:
            message = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            if not self.keep_stdout:
                self.kept.append(line)
            return kill
        if not isinstance(message, dict):
            return kill
        kind = message.get("type")
        if kind == "RECORD":
            self._record(message)
            if self.collect == "all":
                self.messages.append(message)
        else:
            if not self.keep_stdout:
                self.kept.append(line)
            self.messages.append(message)
            if kind == "STATE":
                self._state(message)
        if self.kill_after_records is not None and self.record_count >= self.kill_after_records:
            kill = True
        if self.kill_when is not None and self.kill_when(message):
            kill = True
        return kill

    def _record(self, message: dict[str, Any]) -> None:
        if self.connector == "airbyte":
            stream, data = message["record"]["stream"], message["record"]["data"]
        else:
            stream, data = message["stream"], message["record"]
        self.record_count += 1
        self.since_state += 1
        if self.collect == "digest":
            definition = get_stream(stream)
            keep = {name: data.get(name) for name in definition.primary_key}
            if definition.cursor_field:
                keep[definition.cursor_field] = data.get(definition.cursor_field)
            keep["_digest"] = record_digest(data)
            data = keep
        self.records.setdefault(stream, []).append(data)

    def _state(self, message: dict[str, Any]) -> None:
        self.gaps.append(self.since_state)
        self.since_state = 0
        if self.connector == "airbyte":
            stream_state = message["state"]["stream"]
            name = stream_state["stream_descriptor"]["name"]
            self.last_state[name] = message["state"]
            cursors = dict(self.states[-1]) if self.states else {}
            cursors[name] = _core_cursors(stream_state.get("stream_state") or {})
            self.raw_state = list(self.last_state.values())
        else:
            value = message["value"]
            cursors = {name: _singer_cursors(name, b) for name, b in value.get("bookmarks", {}).items()}
            self.raw_state = value
        self.states.append(cursors)


def _core_cursors(state: Mapping[str, Any]) -> dict[str, str]:
    if "partitions" in state:
        return {str(k): str(v["cursor"]) for k, v in state["partitions"].items() if v.get("cursor")}
    return {"": str(state["cursor"])} if state.get("cursor") else {}


def _singer_cursors(stream: str, bookmark: Mapping[str, Any]) -> dict[str, str]:
    definition = STREAMS_BY_NAME.get(stream)
    found: dict[str, str] = {}
    if bookmark.get("replication_key_value") is not None:
        found[""] = str(bookmark["replication_key_value"])
    field_name = definition.partition_field if definition is not None else None
    for entry in bookmark.get("partitions", []) or []:
        value = entry.get("replication_key_value")
        key = (entry.get("context") or {}).get(field_name) if field_name else None
        if value is not None and key is not None:
            found[str(key)] = str(value)
    return found


def record_digest(record: Mapping[str, Any]) -> str:
    """A stable digest of a record's content, to compare huge runs field for field.

    Keys are sorted and null fields dropped (the Airbyte source omits them, the truth lists them).
    """
    present = {key: value for key, value in record.items() if value is not None}
    return hashlib.blake2b(orjson.dumps(present, option=orjson.OPT_SORT_KEYS), digest_size=12).hexdigest()


def _run_process(
    argv: Sequence[str],
    reader: _Reader,
    *,
    stderr_path: Path,
    timeout: float,
    env: Mapping[str, str] | None,
    kill_after_s: float | None,
) -> tuple[int, float, float, bool, bool]:
    """Run ``argv``, feeding stdout lines to ``reader``; answers (code, wall_s, rss_mb, killed, timed_out)."""
    environment = {**os.environ, **(env or {})}
    rss_report = stderr_path.with_name(stderr_path.name + ".maxrss")
    rss_report.unlink(missing_ok=True)
    started = time.monotonic()
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(RSS_LAUNCHER), str(rss_report), *argv],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=environment,
            start_new_session=True,  # the launcher and the connector die together
        )
    state = {"killed": False, "timed_out": False}

    def kill(reason: str) -> None:
        if not state["killed"] and not state["timed_out"]:
            state[reason] = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    watchdog = threading.Timer(timeout, kill, args=("timed_out",))
    watchdog.daemon = True
    watchdog.start()
    timer: threading.Timer | None = None
    if kill_after_s is not None:
        timer = threading.Timer(kill_after_s, kill, args=("killed",))
        timer.daemon = True
        timer.start()
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if reader.feed(line) and not state["killed"]:
                kill("killed")
    finally:
        process.stdout.close()
        _, status, _ = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        watchdog.cancel()
        if timer is not None:
            timer.cancel()
    wall = time.monotonic() - started
    # the connector's own peak (see rss_launcher.py); a killed launcher leaves none: 0 = unknown
    rss_kb = int(rss_report.read_text(encoding="utf-8")) if rss_report.exists() else 0
    return process.returncode, wall, rss_kb / 1024.0, state["killed"], state["timed_out"]


def run_connector(
    connector: Connector,
    sandbox: SandboxServer,
    workdir: Path,
    *,
    streams: Sequence[str],
    state: Any = None,
    config_overrides: Mapping[str, Any] | None = None,
    timeout: float = 300.0,
    phone: str | None = None,
    device_id: str | None = None,
    collect: Collect = "all",
    keep_stdout: bool = True,
    kill_after_records: int | None = None,
    kill_when: Callable[[dict[str, Any]], bool] | None = None,
    kill_on: bytes | None = None,
    kill_after_s: float | None = None,
    env: Mapping[str, str] | None = None,
    crash_env: Mapping[str, str] | None = None,
    publish_control: bool = True,
) -> RunResult:
    """Run one sync of ``streams`` as a subprocess; ``workdir`` is the connection (see module doc).

    The first run in a ``workdir`` logs in (``phone``, ``device_id``); later runs reuse that config,
    with ``config_overrides`` applied every time. ``state``: what the connector takes as
    ``--state`` (usually a previous run's ``final_state``). Kill switches (SIGKILL): after
    ``kill_after_records`` records, when ``kill_when(message)`` is true, when a stdout line contains
    ``kill_on``, or ``kill_after_s`` seconds after start. ``crash_env`` runs the connector through
    ``crash_launcher.py`` with those variables, which kills it inside a token rotation.
    ``collect="digest"`` + ``keep_stdout=False`` keep memory small for runs of millions of records.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.json"
    if not config_path.exists():
        connector_config(connector, sandbox, workdir, phone=phone, device_id=device_id)
    config: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))
    if config_overrides:
        config.update(config_overrides)
        _write_private(config_path, config)
    catalog = _catalog(connector, config, streams)
    (workdir / "catalog.json").write_bytes(orjson.dumps(catalog))
    launcher: Sequence[str] = (sys.executable, str(CRASH_LAUNCHER)) if crash_env is not None else ()
    argv = _command(connector, workdir, config_path, state, launcher=launcher)
    reader = _Reader(connector, collect, keep_stdout, kill_after_records, kill_when, kill_on)
    run_env = {**(env or {}), **(crash_env or {})}
    code, wall, rss, killed, timed_out = _run_process(
        argv,
        reader,
        stderr_path=workdir / "stderr.log",
        timeout=timeout,
        env=run_env,
        kill_after_s=kill_after_s,
    )
    result = RunResult(
        connector=connector,
        returncode=code,
        stdout=b"".join(reader.kept),
        stderr=(workdir / "stderr.log").read_bytes(),
        messages=reader.messages,
        records=reader.records,
        states=reader.states,
        final_state=reader.raw_state,
        wall_s=wall,
        peak_rss_mb=rss,
        config_path=config_path,
        token_store_path=Path(config["token_store_path"]) if "token_store_path" in config else None,
        phone=_phone_of(workdir),
        start_date=str(config.get("start_date", START_DATE)),
        killed=killed,
        timed_out=timed_out,
        records_before_state=[*reader.gaps, reader.since_state],
        record_count=reader.record_count,
    )
    if connector == "airbyte" and publish_control and result.control_configs:
        _write_private(config_path, result.control_configs[-1])
    return result


def _phone_of(workdir: Path) -> str | None:
    path = workdir / "phone.txt"
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def run_command(
    connector: Connector,
    command: Literal["spec", "check", "discover", "read"],
    workdir: Path,
    *,
    config: Mapping[str, Any] | None = None,
    streams: Sequence[str] = ("cards",),
    state: Any = None,
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """One bare command with an arbitrary ``config`` dict (written as given, valid or not).

    Singer has no ``spec`` or ``check``: ``spec`` runs ``--about --format json``; ``check`` and
    ``read`` run a sync of ``streams`` (the tap validates its config and logs in when it starts);
    ``discover`` runs ``--discover``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.json"
    if config is not None:
        _write_private(config_path, dict(config))
    executable = str(EXECUTABLES[connector])
    argv: list[str]
    if connector == "airbyte":
        argv = [executable, command]
        if command != "spec":
            argv += ["--config", str(config_path)]
        if command == "read":
            catalog = _catalog(connector, config or {}, streams)
            (workdir / "catalog.json").write_bytes(orjson.dumps(catalog))
            argv += ["--catalog", str(workdir / "catalog.json")]
    elif command == "spec":
        argv = [executable, "--about", "--format", "json"]
    elif command == "discover":
        argv = [executable, "--config", str(config_path), "--discover"]
    else:
        try:
            catalog = _catalog(connector, config or {}, streams)
        except Exception:  # an invalid config may not even build a catalog: sync without one
            catalog = None
        argv = [executable, "--config", str(config_path)]
        if catalog is not None:
            (workdir / "catalog.json").write_bytes(orjson.dumps(catalog))
            argv += ["--catalog", str(workdir / "catalog.json")]
    if state is not None and command == "read":
        (workdir / "state.json").write_bytes(orjson.dumps(state))
        argv += ["--state", str(workdir / "state.json")]
    reader = _Reader(connector, "all", True, None, None, None)
    code, wall, rss, killed, timed_out = _run_process(
        argv, reader, stderr_path=workdir / "stderr.log", timeout=timeout, env=env, kill_after_s=None
    )
    token_store = (config or {}).get("token_store_path")
    return RunResult(
        connector=connector,
        returncode=code,
        stdout=b"".join(reader.kept),
        stderr=(workdir / "stderr.log").read_bytes(),
        messages=reader.messages,
        records=reader.records,
        states=reader.states,
        final_state=reader.raw_state,
        wall_s=wall,
        peak_rss_mb=rss,
        config_path=config_path,
        token_store_path=Path(token_store) if isinstance(token_store, str) else None,
        killed=killed,
        timed_out=timed_out,
        records_before_state=[*reader.gaps, reader.since_state],
        record_count=reader.record_count,
    )


# --- judging the output against the truth --------------------------------------------------------


@dataclass
class Comparison:
    """One stream's output against the truth.

    ``lost``: truth keys never emitted. ``wrong_after_dedup``: keys left wrong after deduplicating
    on the primary key (latest cursor wins): emitted keys the truth does not have, plus keys whose
    latest version differs from the truth in some field. ``raw_duplicates``: records emitted more
    than once (what a destination's dedup removes).
    """

    stream: str
    truth: int
    emitted: int
    unique: int
    lost: int
    wrong_after_dedup: int
    examples: str

    @property
    def raw_duplicates(self) -> int:
        return self.emitted - self.unique

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.wrong_after_dedup == 0


def _since(start_date: str) -> datetime:
    return parse_instant(start_date)


def _flatten(records_across_runs: Iterable[RunResult | Mapping[str, Any]], stream: str) -> list[Any]:
    rows: list[Any] = []
    for item in records_across_runs:
        if isinstance(item, RunResult):
            rows.extend(item.records.get(stream, []))
        else:
            rows.append(item)
    return rows


def compare_with_truth(
    sandbox: SandboxServer,
    stream: str,
    records_across_runs: Iterable[RunResult | Mapping[str, Any]],
    *,
    phone: str | None = None,
    start_date: str | None = None,
) -> Comparison:
    """Compare every record of ``stream`` emitted over several runs with the truth of ``phone``.

    ``records_across_runs``: RunResults (their phone and start_date are used when not given) or
    plain record dicts. Digest-mode records are compared by content digest.
    """
    runs = list(records_across_runs)
    first = next((r for r in runs if isinstance(r, RunResult)), None)
    phone = phone or (first.phone if first else None) or str(sandbox.customers()[0]["phone"])
    start = start_date or (first.start_date if first else START_DATE)
    rows = _flatten(runs, stream)
    definition = get_stream(stream)
    truth = sandbox.truth(stream, phone)
    pk, cursor = definition.primary_key, definition.cursor_field
    unique = len({tuple(str(r.get(k)) for k in pk) for r in rows})
    if rows and "_digest" in rows[0]:
        truth = [
            {**{k: r.get(k) for k in pk}, **({cursor: r.get(cursor)} if cursor else {}), "_digest": d}
            for r in truth
            for d in [record_digest(r)]
        ]
        result = compare_stream(
            stream, truth, rows, primary_key=pk, cursor_field=cursor, since=_since(start), fields=["_digest"]
        )
    else:
        result = compare_stream(stream, truth, rows, primary_key=pk, cursor_field=cursor, since=_since(start))
    return Comparison(
        stream=stream,
        truth=result.truth_count,
        emitted=len(rows),
        unique=unique,
        lost=len(result.missing),
        wrong_after_dedup=len(result.extra) + len(result.mismatched),
        examples=result.describe(limit=3),
    )


def lost_and_duplicates(
    sandbox: SandboxServer,
    stream: str,
    records_across_runs: Iterable[RunResult | Mapping[str, Any]],
    *,
    phone: str | None = None,
    start_date: str | None = None,
) -> tuple[int, int]:
    """``(lost, duplicates_after_dedup)`` of ``stream``: see :class:`Comparison` (``wrong_after_dedup``)."""
    found = compare_with_truth(sandbox, stream, records_across_runs, phone=phone, start_date=start_date)
    return found.lost, found.wrong_after_dedup


# --- the summary table ---------------------------------------------------------------------------


@dataclass
class ReportRow:
    """One row of the summary: a case run against one connector."""

    case: str
    connector: str
    runs: int
    passed: bool
    figures: str
    nodeid: str = ""
    outcome: str = ""

    @property
    def result(self) -> str:
        if self.outcome == "xfailed":
            return "XFAIL"
        if self.outcome in ("failed", "error") or not self.passed:
            return "FAIL"
        return "pass"


ROWS: list[ReportRow] = []


def report(case: str, connector: str, runs: int, passed: bool, figures: str) -> None:
    """Record one row for the session's summary table (call it before asserting)."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    ROWS.append(ReportRow(case, connector, runs, passed, figures, nodeid=current))


# --- sandbox-side evidence -----------------------------------------------------------------------


def request_journal(sandbox: SandboxServer) -> list[dict[str, Any]]:
    """The sandbox's request journal (switch ``journal``): every API request with its time and status."""
    status, raw = sandbox.request("GET", "/_sandbox/requests")
    if status != 200:
        raise AssertionError(f"GET /_sandbox/requests -> {status}: {raw[:200]!r}")
    entries: list[dict[str, Any]] = orjson.loads(raw)["requests"]
    return entries


def is_refresh(entry: Mapping[str, Any]) -> bool:
    return str(entry["path"]).endswith("/auth/refresh")


def request_identity(entry: Mapping[str, Any]) -> tuple[str, str, str]:
    """What makes two journal entries the same request (a retry): path, query and statement page."""
    return str(entry["path"]), json.dumps(entry["query"], sort_keys=True), str(entry.get("page"))


def messages_after_error(result: RunResult) -> list[str]:
    """Types of the stdout messages after the first error trace (Airbyte); [] when there was none."""
    types = [str(m.get("type")) for m in result.messages]
    traces = [
        i
        for i, m in enumerate(result.messages)
        if m.get("type") == "TRACE" and m.get("trace", {}).get("type") == "ERROR"
    ]
    return types[traces[0] + 1 :] if traces else []


def connectors_in_ci(*ci: Connector) -> list[Any]:
    """Both connectors as pytest params; those not in ``ci`` are marked slow.

    CI (``pytest -m "not slow"``) then runs a representative subset within its time budget, while
    the full suite (``pytest tests/reliability``) runs every case against both connectors.
    """
    import pytest

    return [pytest.param(c, id=c, marks=() if c in ci else (pytest.mark.slow,)) for c in CONNECTORS]
