"""Console entry point ``tap-trastpay`` (and ``python -m tap_trastpay``): which path answers.

A plain sync invocation runs :mod:`tap_trastpay.native` without importing singer-sdk (about a
second of CPU at start-up, and several microseconds per record in its record loop):

* arguments: ``--config FILE`` (one or more, merged in order), at most one ``--catalog FILE`` and
  at most one ``--state FILE`` (``--opt=value`` works too); nothing else;
* the config files are readable JSON objects, and the merged config configures none of
  singer-sdk's record transformations (``stream_maps``, ``stream_map_config``, ``faker_config``,
  ``flattening_enabled`` other than false, ``flattening_max_*``) nor ``batch_config``, and
  ``emit_activate_version_messages`` is absent or a boolean;
* the catalog, if any, is the discovered one with only ``selected`` flags changed
  (:func:`tap_trastpay.native_catalog.selected_streams`); the state, if any, is shaped as the
  SDK path loads it, and a backfill comes with a state;
* ``TRASTPAY_FAST_PATH`` is not ``0``; a ``SINGER_SDK_LOG_CONFIG`` (Meltano sets one for every
  run) is a JSON logging config naming no singer-sdk object but its two formatters, which
  :mod:`tap_trastpay.structured_logs` stands in for.

Everything else (``--discover``, ``--about``, ``--test``, ``--version``, ``--help``, ``--config
ENV``, any of the settings above, an unreadable file...) runs singer-sdk's command
(:meth:`tap_trastpay.tap.TapTrastpay.cli`) untouched, which also owns every usage error.
``TRASTPAY_FAST_PATH=0`` forces that path for every invocation.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tap_trastpay import structured_logs

__all__ = ["SyncRequest", "main", "plain_sync"]

_SDK_RECORD_SETTINGS = (
    "stream_maps",
    "stream_map_config",
    "faker_config",
    "batch_config",
    "flattening_max_depth",
    "flattening_max_key_length",
)
_OPTIONS = ("--config", "--catalog", "--state")


@dataclass
class SyncRequest:
    """A plain sync invocation: the merged config, the state and the streams the catalog selects."""

    config: dict[str, Any]
    state: dict[str, Any] | None = None
    selected: set[str] | None = None
    config_paths: list[str] = field(default_factory=list)
    log_config: dict[str, Any] | None = None
    """``SINGER_SDK_LOG_CONFIG``'s logging config, its singer-sdk formatters swapped for ours."""


def _parse_args(argv: list[str]) -> dict[str, list[str]] | None:
    """``{option: values}`` for ``--config/--catalog/--state`` arguments only, else None."""
    found: dict[str, list[str]] = {option: [] for option in _OPTIONS}
    index = 0
    while index < len(argv):
        argument = argv[index]
        option, sign, value = argument.partition("=")
        if option not in _OPTIONS:
            return None
        if not sign:
            if index + 1 >= len(argv):
                return None
            value = argv[index + 1]
            index += 1
        if not value or value.startswith("-"):
            return None
        found[option].append(value)
        index += 1
    if not found["--config"] or len(found["--catalog"]) > 1 or len(found["--state"]) > 1:
        return None
    return found


def _load(path: str) -> Any:
    """A JSON document as singer-sdk reads it (floats as Decimal); raises OSError / ValueError."""
    return json.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal)


def plain_sync(argv: list[str], environ: dict[str, str] | None = None) -> SyncRequest | None:
    """The request when ``argv`` is a sync the SDK-free path reproduces exactly, else None."""
    from tap_trastpay import native_catalog, native_state

    env = os.environ if environ is None else environ
    if env.get("TRASTPAY_FAST_PATH") == "0":
        return None
    log_config = None
    if "SINGER_SDK_LOG_CONFIG" in env:
        loaded = structured_logs.load_log_config(env["SINGER_SDK_LOG_CONFIG"])
        log_config = structured_logs.translated_config(loaded) if loaded is not None else None
        if log_config is None:
            return None
    options = _parse_args(argv)
    if options is None or "ENV" in options["--config"]:
        return None
    config: dict[str, Any] = {}
    try:
        for path in options["--config"]:
            document = _load(path)
            if not isinstance(document, dict):
                return None  # the SDK path names the problem
            config |= document
        state = _load(options["--state"][0]) if options["--state"] else None
        catalog = _load(options["--catalog"][0]) if options["--catalog"] else None
    except (OSError, ValueError):
        return None
    if any(name in config for name in _SDK_RECORD_SETTINGS):
        return None
    if config.get("flattening_enabled", False) is not False:
        return None
    if not isinstance(config.get("emit_activate_version_messages", False), bool):
        return None
    if options["--state"] and not native_state.loadable(state):
        return None
    if config.get("backfill") and not state:
        return None
    selected = None
    if options["--catalog"]:
        selected = native_catalog.selected_streams(catalog)
        if selected is None:
            return None
    return SyncRequest(config, state, selected, options["--config"], log_config)


def _setup_logging(log_config: dict[str, Any] | None) -> None:
    """Log lines on stderr in singer-sdk's format, at its level (TAP_TRASTPAY_LOGLEVEL, LOGLEVEL),
    then the runner's logging config over it, as singer-sdk applies ``SINGER_SDK_LOG_CONFIG``."""
    level = (os.environ.get("TAP_TRASTPAY_LOGLEVEL") or os.environ.get("LOGLEVEL") or "INFO").upper()
    root = logging.getLogger()
    root.setLevel(level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structured_logs.ConsoleFormatter())
    root.addHandler(handler)
    if log_config is not None:
        logging.config.dictConfig(log_config)
    logging.captureWarnings(capture=True)


def run_native(request: SyncRequest) -> int:
    """Run a plain sync; the exit code (1 with one clear error line when it fails)."""
    from tap_trastpay import rules
    from tap_trastpay.native import NativeSync
    from tap_trastpay.native_writer import MessageOut
    from trastpay import __version__
    from trastpay.errors import TrastpayError

    _setup_logging(request.log_config)
    logger = logging.getLogger(rules.TAP_NAME)
    logger.info("%s v%s (SDK-free sync)", rules.TAP_NAME, __version__)
    problem = rules.config_problem(request.config)
    if problem is not None:
        logger.error(problem)
        logger.error("Config validation failed")
        return 1
    try:
        NativeSync(request.config, request.state, request.selected, MessageOut(sys.stdout.buffer)).run()
    except TrastpayError as error:
        logger.error("%s: %s", *rules.error_line(error))
        return 1
    except Exception as error:  # as singer-sdk's command: logged with its traceback, exit 1
        logger.error("%s", error.args[0] if error.args else type(error).__name__, exc_info=True)
        return 1
    return 0


def main(args: list[str] | None = None) -> None:
    """Run ``tap-trastpay`` with ``sys.argv`` (or ``args``): the SDK-free sync, or singer-sdk's command."""
    argv = sys.argv[1:] if args is None else list(args)
    request = plain_sync(argv)
    if request is None:
        from tap_trastpay.tap import TapTrastpay  # the singer-sdk path: imported only when it is needed

        TapTrastpay.cli(argv)
        return
    code = run_native(request)
    if code:
        sys.exit(code)
