"""Console entry point ``source-trastpay``: the four Airbyte commands, three of them without the CDK.

``spec``, ``check --config FILE`` and ``discover --config FILE`` are answered by
:mod:`source_trastpay.answers` (a cold start well under the CDK's import time); ``read`` and every
invocation this module does not recognise exactly (another command, ``--help``, ``--debug``,
``LOG_LEVEL=debug``, a missing or extra argument, an unreadable config file) run the CDK path
(:func:`source_trastpay.run.run`), so its argument errors, usage text and exit codes stay the CDK's.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

__all__ = ["direct_request", "main"]

_DIRECT_COMMANDS = ("check", "discover")


def direct_request(argv: list[str]) -> tuple[str, str | None] | None:
    """``(command, config path)`` when ``argv`` is a plain spec/check/discover call, else None."""
    if os.environ.get("LOG_LEVEL", "info").lower() == "debug":
        return None
    if argv == ["spec"]:
        return "spec", None
    if len(argv) == 3 and argv[0] in _DIRECT_COMMANDS and argv[1] == "--config":
        path = argv[2]
    elif len(argv) == 2 and argv[0] in _DIRECT_COMMANDS and argv[1].startswith("--config="):
        path = argv[1].removeprefix("--config=")
    else:
        return None
    if not path or path.startswith("-"):
        return None
    return argv[0], path


def _read_config(path: str) -> dict[str, Any] | None:
    """The config file's object, or None when the CDK reports it (missing, not JSON, not an object)."""
    try:
        with open(path, encoding="utf-8") as file:
            config = json.load(file)
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def main(args: list[str] | None = None) -> None:
    """Run one Airbyte command (``sys.argv`` by default), exiting with the CDK path's exit code."""
    argv = sys.argv[1:] if args is None else list(args)
    code = answer(argv)
    if code is None:
        from source_trastpay.run import run  # the CDK path: imported only when it is needed

        run(argv)
        return
    if code:
        sys.exit(code)


def answer(argv: list[str]) -> int | None:
    """The exit code of a directly answered command, or None when the CDK path must answer it."""
    from source_trastpay.answers import CDK_INTERNAL_KEYS, Answers, Delegate

    request = direct_request(argv)
    if request is None:
        return None
    command, path = request
    answers = Answers()
    if command == "spec":
        return answers.spec()
    config = _read_config(path or "")
    if config is None or CDK_INTERNAL_KEYS & config.keys():
        return None
    try:
        if command == "check":
            return answers.check(config)
        return answers.discover(config)
    except Delegate:
        return None
    except Exception as error:
        return answers.unexpected(error)
