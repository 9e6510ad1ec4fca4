"""``trastpay statement export``: a card statement as a JSON, XLSX or PDF file.

The file is fetched through the core's one request path (retries on 429/5xx, budget, audit line,
and the token manager, so a rotation is saved to the token store first), checked to be the
promised kind of file, and written atomically: a reader sees either the previous file or the
complete new one, never half a statement.
"""

from __future__ import annotations

import argparse
import re
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from trastpay.accounting import ACCOUNTING_FORMATS, export_from_api
from trastpay.cli.common import CliError, load_config, note, open_session, write_atomic
from trastpay.errors import InvalidRequest, PayloadError
from trastpay.session import TrastpaySession

FORMATS = ("json", "xlsx", "pdf", *ACCOUNTING_FORMATS)
_CARD_TOKEN = re.compile(r"^crd_[A-Za-z0-9]+$")
_MAGIC = {"xlsx": b"PK\x03\x04", "pdf": b"%PDF"}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-03-01") from None


def add_parser(commands: Any) -> None:
    statement = commands.add_parser("statement", help="card statements", description="Card statements.")
    actions = statement.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export",
        help="download a card statement file",
        description="Download the statement of one card for a date range as JSON, XLSX or PDF.",
    )
    export.add_argument("--card", required=True, help="card token (crd_...), from the cards stream")
    export.add_argument("--from", dest="first", required=True, type=_day, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="last", required=True, type=_day, help="last day, YYYY-MM-DD")
    export.add_argument("--format", required=True, choices=FORMATS, help="file format")
    export.add_argument("--out", required=True, type=Path, help="file to write (replaced atomically)")
    export.add_argument("--config", help="connector config JSON (default: $TRASTPAY_CONFIG)")
    export.set_defaults(handler=run_export)


def fetch_export(session: TrastpaySession, card: str, first: date, last: date, fmt: str) -> bytes:
    """The export file's bytes, fetched like every core call (retries, budget, audit, 401 handling)."""
    path = f"/cards/{card}/statement/export"
    params = {"from": first.isoformat(), "to": last.isoformat(), "format": fmt}
    try:
        return session.client.get_file(path, params, scope="statements:read")
    except InvalidRequest as error:
        if error.status == 404:
            slug = error.problem_type or "not-found"
            raise CliError(f"card '{card}' is not linked to this Trastpay profile (404 {slug})") from None
        raise


def check_content(content: bytes, fmt: str) -> None:
    """Refuse to write anything but the promised kind of file."""
    if fmt == "json":
        try:
            orjson.loads(content)
        except orjson.JSONDecodeError:
            raise PayloadError("The statement export answered with a body that is not JSON.") from None
    elif not content.startswith(_MAGIC[fmt]):
        raise PayloadError(f"The statement export answered with something that is not a {fmt.upper()} file.")


def run_export(args: argparse.Namespace) -> int:
    if not _CARD_TOKEN.fullmatch(args.card):
        raise CliError(
            "--card is not a card token like crd_7Hq2LmX9 (tokens come from the cards stream; "
            "a card number is never accepted)"
        )
    if args.first > args.last:
        raise CliError(f"--from {args.first.isoformat()} is after --to {args.last.isoformat()}")
    config = load_config(args.config)
    with open_session(config) as session:
        accounting = args.format in ACCOUNTING_FORMATS
        content = fetch_export(
            session, args.card, args.first, args.last, "json" if accounting else args.format
        )
    check_content(content, "json" if accounting else args.format)
    if accounting:
        content = export_from_api(content, args.format)
    write_atomic(args.out, content)
    note(f"Wrote {args.out} ({len(content)} bytes, {args.format}).")
    return 0
