"""Console entry point ``source-trastpay``: the four Airbyte commands, each answerable without the CDK.

``spec``, ``check --config FILE`` and ``discover --config FILE`` are answered by
:mod:`source_trastpay.answers`, ``read --config C --catalog K [--state S]`` by
:mod:`source_trastpay.native_read` (cold starts well under the CDK's import time, and a read loop
without the CDK's per-message cost). Every invocation these modules do not recognise exactly
(another command, ``--help``, ``--debug``, ``LOG_LEVEL=debug``, a missing, extra or abbreviated
argument, an unreadable config, catalog or state file) runs the CDK path
(:func:`source_trastpay.run.run`), so its argument errors, usage text and exit codes stay the CDK's.
``TRASTPAY_FAST_PATH=0`` in the environment sends every command to the CDK path.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

__all__ = ["direct_request", "main"]

_DIRECT_COMMANDS = ("check", "discover")


FAST_PATH_SWITCH = "TRASTPAY_FAST_PATH"
"""Environment variable: ``0`` forces the SDK (airbyte-cdk) path for every command."""


def fast_path_allowed() -> bool:
    """False when the environment asks for the CDK path: the switch, or the platform's debug logging."""
    if os.environ.get(FAST_PATH_SWITCH, "1").strip() == "0":
        return False
    return os.environ.get("LOG_LEVEL", "info").lower() != "debug"


def direct_request(argv: list[str]) -> tuple[str, str | None] | None:
    """``(command, config path)`` when ``argv`` is a plain spec/check/discover call, else None."""
    if not fast_path_allowed():
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
    if argv[:1] == ["read"]:
        if not fast_path_allowed() or os.environ.get("DEPLOYMENT_MODE", "").casefold() == "cloud":
            return None  # cloud mode: the CDK also filters the hosts a request may reach
        from source_trastpay.native_read import answer_read

        return answer_read(argv)
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


if __name__ == "__main__":  # ``python -m source_trastpay.console`` (the bench profiles it this way)
    main()
