"""``read`` answered without airbyte-cdk: the same messages as the CDK path, in the same order.

Importing airbyte-cdk costs about two seconds of CPU, and its per-message loop several
microseconds per record; a typical sync is a few thousand records, so a ``read`` through the CDK
is mostly start-up. :func:`answer_read` runs a plain ``read --config C --catalog K [--state S]``
(see :mod:`source_trastpay.native_inputs` for what counts as plain) the way the CDK path does
(:mod:`source_trastpay.run`, ``SourceTrastpay.read``, airbyte-cdk's ``AbstractSource.read`` and
entrypoint), and ``tests/source_trastpay/test_source_native_read.py`` compares both paths message
by message on the real sandbox:

* the config's secrets (and every rotated token) are hidden in every LOG line and error TRACE;
  the core validates the config first ("Invalid config field ...": a config_error TRACE, exit 1);
* one session logs in and lists the cards before any stream (a refusal: one TRACE, exit 1); every
  rotation is a CONNECTOR_CONFIG control message written before the new token is used;
* per stream: the CDK's log lines, STREAM_STATUS STARTED, RUNNING before the first record,
  COMPLETE or INCOMPLETE; records a page per write; STATE as the core checkpoints it, with
  ``sourceStats.recordCount`` (records since the stream's previous STATE); ``sync_audit`` last;
* a failed stream writes its error TRACE and the sync goes on, except after refused credentials;
  at the end "During the sync, the following streams did not sync successfully: ..." (exit 1).

Deliberate differences: the CDK's "MemoryMonitor instantiated" log line is not written (there is
no CDK memory monitor here; memory is bounded by the core's read-ahead budget), and the traceback
text in an error log line or TRACE shows this module's frames instead of the CDK's.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from datetime import timedelta
from typing import IO, Any

from source_trastpay.live_config import LiveConfig
from source_trastpay.native_inputs import ConfiguredStream, ReadInputs, load_inputs, read_request
from source_trastpay.protocol import (
    SECRETS,
    UNEXPECTED,
    LogLines,
    Writer,
    control_line,
    error_line,
    log_line,
    record_lines,
    state_line,
    status_line,
)
from source_trastpay.sequence import NO_CURSOR_STATE_KEY, Snapshot, parse_stream_state, stream_sequence
from source_trastpay.spec import connection_specification
from source_trastpay.wording import internal_message, user_message

__all__ = ["SOURCE_NAME", "answer_read"]

SOURCE_NAME = "SourceTrastpay"
"""The name the CDK path logs the source by (its class name)."""

_FAILURE_TYPES = ("config_error", "transient_error", "system_error")


class Delegate(Exception):
    """Raised before anything is written: the CDK path must answer this invocation instead."""


class _StreamFailed(Exception):
    """One stream failed: what its error TRACE says, and how the final failure names it."""

    def __init__(self, error: BaseException, message: str, internal: str | None, failure_type: str) -> None:
        super().__init__(internal)
        self.error = error
        self.user_message = message
        self.internal = internal
        self.failure_type = failure_type


def _stack(error: BaseException) -> str:
    return "".join(traceback.TracebackException.from_exception(error).format())


def _failure_type(error: Any) -> str:
    kind = getattr(error, "failure_type", "system_error")
    return kind if kind in _FAILURE_TYPES else "system_error"


class _Timer:
    """airbyte-cdk's per-sync event timer: the "<source> runtimes:" report after each stream."""

    def __init__(self) -> None:
        self._events: dict[str, list[int]] = {}
        self._current: str | None = None

    def start(self, name: str) -> None:
        self._events[name] = [time.perf_counter_ns()]
        self._current = name

    def finish(self) -> None:
        if self._current is not None:
            self._events[self._current].append(time.perf_counter_ns())
            self._current = None

    def report(self) -> str:
        lines = [
            f"{name} {timedelta(seconds=(times[1] - times[0]) / 1e9)}"
            for name, times in sorted(self._events.items())
            if len(times) == 2
        ]
        return f"{SOURCE_NAME} runtimes:\n" + "\n".join(lines)


class NativeRead:
    """One ``read`` command: writes its messages through ``writer``, answers its exit code."""

    def __init__(self, inputs: ReadInputs, writer: Writer) -> None:
        self._inputs = inputs
        self._writer = writer
        self._live = LiveConfig(self._publish, SECRETS.add)
        self._credentials_refused = False
        self._counts: dict[str, int] = {}

    def _publish(self, config: dict[str, Any]) -> None:
        self._writer.message(control_line(config))

    def _log(self, level: str, text: str) -> None:
        self._writer.message(log_line(level, text))

    def run(self) -> int:
        from trastpay.config import parse_config
        from trastpay.errors import ConfigError

        config = self._inputs.config
        specification = connection_specification()
        SECRETS.from_config(specification, config)
        try:
            parse_config(config)
        except ConfigError as error:
            if error.failure_type != "config_error":
                raise Delegate from error
            self._writer.message(
                error_line(user_message(error), internal_message(error), None, "config_error")
            )
            return 1
        import jsonschema  # type: ignore[import-untyped]

        if not jsonschema.Draft7Validator(specification).is_valid(config):
            raise Delegate  # the CDK's own schema message: its path answers
        return self._sync(config)

    def _sync(self, config: dict[str, Any]) -> int:
        from trastpay.audit import LOGGER_NAME as AUDIT_LOGGER_NAME
        from trastpay.config import parse_config
        from trastpay.errors import TrastpayError
        from trastpay.session import TrastpaySession
        from trastpay.streams import EMITTED_STREAMS, SYNC_AUDIT

        audit = logging.getLogger(AUDIT_LOGGER_NAME)
        if audit.level == logging.NOTSET:
            audit.setLevel(logging.INFO)  # as SourceTrastpay: the audit trail belongs in the sync log
        handler = LogLines(lambda level, text: self._writer.message(log_line(level, text)))
        root = logging.getLogger()
        root.addHandler(handler)
        session: TrastpaySession | None = None
        try:
            try:
                parse_config(self._live.adopt(config))
                session = TrastpaySession(
                    parse_config(self._live.adopt(self._live.current)), self._live.on_rotate
                )
                session.check()
            except TrastpayError as error:
                kind = _failure_type(error)
                stack = _stack(error) if kind == "system_error" else None
                self._writer.message(error_line(user_message(error), internal_message(error), stack, kind))
                return 1
            streams = [entry for entry in self._inputs.streams if entry.name != SYNC_AUDIT.name]
            streams += [entry for entry in self._inputs.streams if entry.name == SYNC_AUDIT.name]
            definitions = {definition.name: definition for definition in EMITTED_STREAMS}
            return self._read_streams(session, streams, definitions)
        finally:
            if session is not None:
                session.close()
            root.removeHandler(handler)
            self._writer.flush()

    def _read_streams(
        self, session: Any, streams: list[ConfiguredStream], definitions: dict[str, Any]
    ) -> int:
        self._log("INFO", f"Starting syncing {SOURCE_NAME}")
        timer = _Timer()
        failures: dict[str, _StreamFailed] = {}
        for configured in streams:
            definition = definitions.get(configured.name)
            if definition is None:  # not a stream of this source: the CDK marks it INCOMPLETE, no more
                self._writer.message(status_line(configured.name, configured.namespace, "INCOMPLETE"))
                continue
            name = configured.name
            timer.start(f"Syncing stream {name}")
            try:
                self._log("INFO", f"Marking stream {name} as STARTED")
                self._writer.message(status_line(name, configured.namespace, "STARTED"))
                self._read_stream(session, configured, definition)
                self._log("INFO", f"Marking stream {name} as STOPPED")
                self._writer.message(status_line(name, configured.namespace, "COMPLETE"))
            except _StreamFailed as failed:
                self._writer.flush()
                trace = "".join(traceback.format_exception(failed.error)).rstrip("\n")
                self._log("ERROR", f"Encountered an exception while reading stream {name}\n{trace}")
                self._log("INFO", f"Marking stream {name} as STOPPED")
                self._writer.message(status_line(name, configured.namespace, "INCOMPLETE"))
                self._writer.message(
                    error_line(
                        failed.user_message, failed.internal, _stack(failed.error), failed.failure_type, name
                    )
                )
                failures[name] = failed
                if self._credentials_refused:
                    self._log(
                        "INFO",
                        f"Stopping sync on error from stream {name} because {SOURCE_NAME} "
                        "does not support continuing syncs on error.",
                    )
                    break
            finally:
                timer.finish()
                self._log("INFO", f"Finished syncing {name}")
                self._log("INFO", timer.report())
        if failures:
            listed = "\n".join(
                f"{name}: {SECRETS(f'AirbyteTracedException({failed.internal!r})')}"
                for name, failed in failures.items()
            )
            message = f"During the sync, the following streams did not sync successfully: {listed}"
            self._log("INFO", message)
            self._writer.message(error_line(message, None, None, "config_error"))
            return 1
        self._log("INFO", f"Finished syncing {SOURCE_NAME}")
        return 0

    def _read_stream(self, session: Any, configured: ConfiguredStream, definition: Any) -> None:
        """One stream's messages; any failure becomes :class:`_StreamFailed`."""
        from trastpay.errors import AuthError, TrastpayError

        name = configured.name
        stored = self._inputs.states.get((name, None), {})
        stream_state = {} if stored == {NO_CURSOR_STATE_KEY: True} else stored
        try:
            state = parse_stream_state(definition, stream_state, configured.incremental)
        except TrastpayError as error:
            raise self._failed(error) from error
        self._log("INFO", f"Syncing stream: {name} ")
        count = 0
        counts = self._counts
        writer = self._writer
        try:
            for item in stream_sequence(session, definition, state, configured.incremental, dict(stored)):
                if type(item) is list:
                    if count == 0:
                        self._log("INFO", f"Marking stream {name} as RUNNING")
                        writer.message(status_line(name, configured.namespace, "RUNNING"))
                    count += len(item)
                    counts[name] = counts.get(name, 0) + len(item)
                    writer.records(record_lines(name, item, time.time_ns() // 1_000_000))
                    continue
                assert isinstance(item, Snapshot)
                self._inputs.states[(name, None)] = item.state
                writer.message(state_line(name, item.state, counts.get(name, 0)))
                counts[name] = 0
        except TrastpayError as error:
            if isinstance(error, AuthError):
                self._credentials_refused = True
            raise self._failed(error) from error
        except Exception as error:
            raise _StreamFailed(error, UNEXPECTED, str(error), "system_error") from error
        self._log("INFO", f"Read {count} records from {name} stream")

    @staticmethod
    def _failed(error: Any) -> _StreamFailed:
        return _StreamFailed(error, user_message(error), internal_message(error), _failure_type(error))


def answer_read(argv: list[str], out: IO[bytes] | None = None) -> int | None:
    """The exit code of a directly answered ``read``, or None (nothing written) when the CDK path must."""
    request = read_request(argv)
    if request is None:
        return None
    inputs = load_inputs(request)
    if inputs is None:
        return None
    writer = Writer(out if out is not None else sys.stdout.buffer)
    try:
        return NativeRead(inputs, writer).run()
    except Delegate:
        return None
    except Exception as error:  # a bug: what the CDK path's run() writes for one
        writer.message(error_line(UNEXPECTED, str(error), _stack(error), "system_error"))
        return 1
