"""Logging of the SDK-free sync when a runner hands a singer-sdk logging config (Meltano does).

Meltano starts every Singer tap with ``SINGER_SDK_LOG_CONFIG``: a ``logging.config`` dictionary
(YAML or JSON) whose formatter is ``singer_sdk.logging.StructuredFormatter`` when it
parses the tap's stderr as structured logs, else a plain ``{"format": "%(message)s"}``. Naming
that class would import singer-sdk, which the SDK-free path exists to avoid, so
:func:`translated_config` swaps singer-sdk's two formatter classes for the ones below and leaves
everything else as written; a config naming any other singer-sdk object is not translated (the
sync then runs on singer-sdk).

:class:`StructuredFormatter` writes the JSON line Meltano's ``singer-sdk`` log parser reads: the
fields ``level``, ``pid``, ``logger_name``, ``ts``, ``thread_name``, ``app_name``, ``stream_name``
and ``message``, an ``exception`` object (type, module, message, traceback frames, cause or
context) when there is one, ``metric_info`` for a ``METRIC`` line, and the record's other
attributes under ``extra``.
"""

from __future__ import annotations

import json
import linecache
import logging
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "CONSOLE_FORMAT",
    "ConsoleFormatter",
    "StructuredFormatter",
    "load_log_config",
    "translated_config",
]

CONSOLE_FORMAT = "{asctime:23s} | {levelname:8s} | {name:30s} | {message}"
"""singer-sdk's console line: time, level, logger, message."""

_SWAPS = {
    "singer_sdk.logging.StructuredFormatter": f"{__name__}.StructuredFormatter",
    "singer_sdk.logging.ConsoleFormatter": f"{__name__}.ConsoleFormatter",
}
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "asctime",
    "message",
    "taskName",
}


class ConsoleFormatter(logging.Formatter):
    """singer-sdk's console format (:data:`CONSOLE_FORMAT`)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", CONSOLE_FORMAT)
        kwargs.setdefault("style", "{")
        super().__init__(**kwargs)


class StructuredFormatter(logging.Formatter):
    """One JSON object per log record, in the shape Meltano's ``singer-sdk`` log parser reads."""

    def __init__(self, *, defaults: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._defaults = dict(defaults or {})

    def format(self, record: logging.LogRecord) -> str:
        extra = {**self._defaults}
        extra.update(
            (key, value) for key, value in record.__dict__.items() if key not in _STANDARD_ATTRIBUTES
        )
        line: dict[str, Any] = {
            "level": record.levelname.lower(),
            "pid": record.process,
            "logger_name": record.name,
            "ts": record.created,
            "thread_name": record.threadName,
            "app_name": extra.pop("app_name", "singer-sdk"),
            "stream_name": extra.pop("stream_name", None),
        }
        if record.exc_info and record.exc_info[1] is not None:
            line["exception"] = _exception(record.exc_info[1])
        if record.msg == "METRIC: %s" and isinstance(record.args, tuple) and record.args:
            line["message"] = "METRIC"
            point = record.args[0]
            line["metric_info"] = json.loads(point) if isinstance(point, str) else point
        else:
            try:
                line["message"] = record.getMessage()
            except (TypeError, ValueError):
                line["message"] = str(record.msg)
        line["extra"] = extra
        return json.dumps(line, default=str, separators=(",", ":"))


def _exception(error: BaseException, depth: int = 0) -> dict[str, Any]:
    """An exception as data: type, module, message, its frames, and the exception that led to it."""
    data: dict[str, Any] = {
        "type": type(error).__name__,
        "module": type(error).__module__,
        "message": str(error),
        "traceback": _frames(error.__traceback__),
    }
    if depth < 10:
        if error.__cause__ is not None:
            data["cause"] = _exception(error.__cause__, depth + 1)
        elif error.__context__ is not None and not error.__suppress_context__:
            data["context"] = _exception(error.__context__, depth + 1)
    return data


def _frames(trace: TracebackType | None) -> list[dict[str, Any]]:
    frames = []
    while trace is not None:
        code = trace.tb_frame.f_code
        frames.append(
            {
                "filename": code.co_filename,
                "function": code.co_name,
                "lineno": trace.tb_lineno,
                "line": linecache.getline(code.co_filename, trace.tb_lineno),
            }
        )
        trace = trace.tb_next
    return frames


def load_log_config(path: str) -> dict[str, Any] | None:
    """The logging config at ``path``, read as singer-sdk reads it (YAML, so JSON too), or None
    when it cannot be read as a mapping (the SDK path then reports what is wrong)."""
    import yaml  # a singer-sdk dependency, installed with the tap; only needed here

    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return None
    return document if isinstance(document, dict) else None


def translated_config(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """``config`` with singer-sdk's formatter classes swapped for this module's; None when it
    names another singer-sdk object anywhere (only singer-sdk can build that)."""
    formatters = config.get("formatters", {})
    if not isinstance(formatters, Mapping):
        return None
    swapped: dict[str, Any] = {}
    for name, formatter in formatters.items():
        if isinstance(formatter, Mapping) and formatter.get("()") in _SWAPS:
            formatter = {**formatter, "()": _SWAPS[str(formatter["()"])]}
        swapped[name] = formatter
    result = {**config, "formatters": swapped}
    if "singer_sdk" in json.dumps(result, default=str):
        return None
    return result
