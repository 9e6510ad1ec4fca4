"""Airbyte protocol lines written without airbyte-cdk: the direct ``read`` path's messages.

Each function answers one message as the JSON line the CDK path writes for it (same keys, same
order, ``None`` fields left out, as the CDK's serializer does), built as plain dicts and
serialised with orjson. :data:`SECRETS` is this process's one secret registry on the direct path,
the equivalent of airbyte-cdk's ``update_secrets``/``add_to_secrets``/``filter_secrets``: the
config's ``airbyte_secret`` settings and every rotated token, replaced by ``****`` in every LOG
message and in each field of an error TRACE (never in the finished line, so a secret that
happens to be JSON syntax cannot rewrite it). :class:`Writer` hands lines to stdout: a page of
records in one write, anything else written and flushed at once, from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import IO, Any

import orjson

__all__ = [
    "SECRETS",
    "UNEXPECTED",
    "LogLines",
    "SecretRegistry",
    "Writer",
    "control_line",
    "error_line",
    "error_message",
    "log_line",
    "record_lines",
    "state_line",
    "status_line",
]


UNEXPECTED = "Something went wrong in the connector. See the logs for more details."
"""The user-facing message of a system error, as the CDK writes it (details go to the log)."""


def _secret_paths(schema: Any, path: tuple[str, ...] = ()) -> Iterable[tuple[str, ...]]:
    """Config paths of the settings marked ``airbyte_secret`` (the CDK's ``get_secret_paths``)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            yield from _secret_paths(value, (*path, key))
    elif isinstance(schema, list):
        for value in schema:
            yield from _secret_paths(value, path)
    elif path and path[-1] == "airbyte_secret" and schema is True:
        yield tuple(part for part in path[:-1] if part not in ("properties", "oneOf"))


class SecretRegistry:
    """The values hidden in everything the direct path writes except records, state and control."""

    def __init__(self) -> None:
        self._values: list[str] = []
        self._lock = threading.Lock()

    def from_config(self, connection_specification: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        """Replace the registry with the config's secret settings (as the CDK's ``update_secrets``)."""
        found: list[str] = []
        for path in _secret_paths(connection_specification.get("properties", {})):
            value: Any = config
            for part in path:
                if not isinstance(value, Mapping) or part not in value:
                    break
                value = value[part]
            else:
                found.append(str(value))
        with self._lock:
            self._values = found

    def add(self, value: str) -> None:
        with self._lock:
            self._values.append(value)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value:
                text = text.replace(value, "****")
        return text


SECRETS = SecretRegistry()
"""The process's one registry on the direct path (the CDK path uses the CDK's)."""


def _dumps(message: Mapping[str, Any]) -> bytes:
    return orjson.dumps(message) + b"\n"


def _descriptor(name: str, namespace: str | None = None) -> dict[str, Any]:
    return {"name": name} if namespace is None else {"name": name, "namespace": namespace}


def log_line(level: str, message: str) -> bytes:
    """A LOG message; ``message`` is filtered by :data:`SECRETS` here."""
    return _dumps({"type": "LOG", "log": {"level": level, "message": SECRETS(message)}})


def status_line(name: str, namespace: str | None, status: str) -> bytes:
    """A STREAM_STATUS TRACE (``emitted_at`` as the CDK's: float milliseconds of local now)."""
    return _dumps(
        {
            "type": "TRACE",
            "trace": {
                "type": "STREAM_STATUS",
                "emitted_at": datetime.now().timestamp() * 1000.0,
                "stream_status": {"stream_descriptor": _descriptor(name, namespace), "status": status},
            },
        }
    )


def state_line(name: str, stream_state: Mapping[str, Any], record_count: int) -> bytes:
    """A per-stream STATE message with the entrypoint's ``sourceStats`` (a float, as the protocol says)."""
    return _dumps(
        {
            "type": "STATE",
            "state": {
                "type": "STREAM",
                "stream": {"stream_descriptor": {"name": name}, "stream_state": stream_state},
                "sourceStats": {"recordCount": float(record_count)},
            },
        }
    )


def error_message(
    message: str,
    internal_message: str | None,
    stack_trace: str | None,
    failure_type: str,
    stream: str | None = None,
    hide: Callable[[str], str] = SECRETS,
) -> dict[str, Any]:
    """An ERROR TRACE message; every text field filtered by ``hide``, absent fields left out."""
    error: dict[str, Any] = {"message": hide(message)}
    if internal_message is not None:
        error["internal_message"] = hide(internal_message)
    if stack_trace is not None:
        error["stack_trace"] = hide(stack_trace)
    error["failure_type"] = failure_type
    if stream is not None:
        error["stream_descriptor"] = {"name": stream}
    return {
        "type": "TRACE",
        "trace": {"type": "ERROR", "emitted_at": time.time_ns() // 1_000_000, "error": error},
    }


def error_line(
    message: str,
    internal_message: str | None,
    stack_trace: str | None,
    failure_type: str,
    stream: str | None = None,
) -> bytes:
    """:func:`error_message` filtered by :data:`SECRETS`, as one line."""
    return _dumps(error_message(message, internal_message, stack_trace, failure_type, stream))


def control_line(config: Mapping[str, Any]) -> bytes:
    """A CONNECTOR_CONFIG CONTROL message: the whole updated config (the platform stores it)."""
    return _dumps(
        {
            "type": "CONTROL",
            "control": {
                "type": "CONNECTOR_CONFIG",
                "emitted_at": time.time() * 1000,
                "connectorConfig": {"config": dict(config)},
            },
        }
    )


def record_lines(stream: str, records: list[dict[str, Any]], emitted_at: int) -> bytes:
    """One page of RECORD messages, one line each, as one bytes object.

    Byte for byte what ``orjson.dumps({"type": "RECORD", "record": {"stream": ..., "data": ...,
    "emitted_at": ...}})`` writes, with the constant parts built once per page: only ``data`` is
    serialised per record.
    """
    dumps = orjson.dumps
    head = b'{"type":"RECORD","record":{"stream":' + dumps(stream) + b',"data":'
    tail = b',"emitted_at":' + dumps(emitted_at) + b"}}\n"
    if not records:
        return b""
    return head + (tail + head).join([dumps(data) for data in records]) + tail


class Writer:
    """Lines to ``out`` (stdout's bytes by default): records buffered, everything else flushed at once.

    A lock keeps lines whole when the core's worker threads log while the main thread writes.
    """

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._lock = threading.Lock()

    def records(self, lines: bytes) -> None:
        with self._lock:
            self._out.write(lines)

    def message(self, line: bytes) -> None:
        with self._lock:
            self._out.write(line)
            self._out.flush()

    def flush(self) -> None:
        with self._lock:
            self._out.flush()


LEVELS = {
    logging.CRITICAL: "FATAL",
    logging.ERROR: "ERROR",
    logging.WARNING: "WARN",
    logging.INFO: "INFO",
    logging.DEBUG: "DEBUG",
}
"""Python log levels as the protocol's LOG levels (what the CDK's log formatter writes)."""


class LogLines(logging.Handler):
    """Python log records as LOG messages (what the CDK's log formatter writes): each goes to
    ``sink(level, text)``, which writes it with the secrets of its command filtered out."""

    def __init__(self, sink: Callable[[str, str], None]) -> None:
        super().__init__()
        self._sink = sink
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sink(LEVELS.get(record.levelno, "INFO"), self.format(record))
        except Exception:
            self.handleError(record)
