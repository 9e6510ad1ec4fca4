"""The ``trastpay`` user command: log in, export statements, look at loans and FX, receive webhooks.

Every command has ``--help``. Bad arguments exit 2 with argparse's usage message; a failure the
user can act on (a core :class:`~trastpay.errors.TrastpayError`, a missing file) prints one line
``error: <message>`` on stderr and exits 1, never a traceback or a secret.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from trastpay import __version__
from trastpay.cli import auth_cmd, statement_cmd, views, webhooks_cmd
from trastpay.errors import TrastpayError
from trastpay.masking import scrub_pans


class _Parser(argparse.ArgumentParser):
    """No abbreviated options: ``--secret`` must never be taken for ``--secret-env``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="trastpay",
        description="Trastpay connectors: OTP login, statement exports, quick views and a webhook receiver.",
    )
    parser.add_argument("--version", action="version", version=f"trastpay {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    auth_cmd.add_parser(commands)
    statement_cmd.add_parser(commands)
    views.add_parsers(commands)
    webhooks_cmd.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 failure, 2 bad arguments)."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except TrastpayError as error:
        sys.stderr.write(f"error: {scrub_pans(error.message)}\n")
        return 1
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        sys.stderr.write(f"error: {error.strerror or type(error).__name__}{where}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130


__all__ = ["build_parser", "main"]
