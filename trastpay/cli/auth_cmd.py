"""``trastpay auth login``: OTP login, refresh token into the token store, ready connector configs.

The OTP is read without echo (or one line from stdin with ``--otp-from-stdin``) and never
printed; the access token is thrown away. The refresh token goes only to the token store (atomic,
0600) and, with ``--show-secrets`` only, into the printed Airbyte config. The printed JSON goes to
stdout (pipe it into a file); hints go to stderr.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trastpay.cli.common import CliError, note, out
from trastpay.cursors import TASHKENT
from trastpay.login import DEFAULT_CLIENT_ID, LoginClient, check_phone
from trastpay.token_store import TokenStore, default_token_path

DEFAULT_BASE_URL = "http://127.0.0.1:8765/api/v1/trastpay"
TOKEN_IN_STORE = "<in the token store>"  # noqa: S105 - a placeholder, not a secret
AIRBYTE_PLACEHOLDER = "<secret: copy it from the token store, or rerun with --show-secrets>"


def add_parser(commands: Any) -> None:
    auth = commands.add_parser("auth", help="log in and manage credentials", description="Credentials.")
    actions = auth.add_subparsers(dest="action", required=True, metavar="ACTION")
    login = actions.add_parser(
        "login",
        help="log in with a one-time password and save the refresh token",
        description="Request an OTP for the phone, read it (not echoed), log in, save the refresh token "
        "in the token store and print ready configs for the Airbyte source and the Singer tap.",
    )
    login.add_argument("--phone", required=True, help="phone of the Trastpay profile, +998 and 9 digits")
    login.add_argument("--device-id", required=True, help="device id the tokens are bound to")
    login.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help=f"default {DEFAULT_CLIENT_ID}")
    login.add_argument(
        "--base-url", default=DEFAULT_BASE_URL, help=f"API base URL (default {DEFAULT_BASE_URL})"
    )
    login.add_argument(
        "--token-store", type=Path, help="token store file (default: the user config directory)"
    )
    login.add_argument("--scopes", nargs="+", help="scopes to request (default: all the API offers)")
    login.add_argument("--start-date", help="start_date of the printed configs (default: one year ago)")
    login.add_argument(
        "--otp-from-stdin", action="store_true", help="read the OTP as one line from stdin (for scripts)"
    )
    login.add_argument(
        "--show-secrets", action="store_true", help="print the refresh token in the Airbyte config"
    )
    login.set_defaults(handler=run_login)


def _check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise CliError("--base-url must be an http(s) URL without query string, e.g. " + DEFAULT_BASE_URL)
    return url.rstrip("/")


def _read_otp(phone: str, from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
    else:
        line = getpass.getpass(f"One-time password sent to {phone[:6]}***{phone[-2:]}: ")
    code = line.strip()
    if not code:
        raise CliError("no one-time password was entered")
    return code


def _scopes(raw: list[str] | None) -> list[str] | None:
    if not raw:
        return None
    return [scope for item in raw for scope in item.replace(",", " ").split()]


def run_login(args: argparse.Namespace) -> int:
    try:
        phone = check_phone(args.phone)
    except ValueError as exc:
        raise CliError(f"--phone: {exc}") from None
    if not args.device_id.strip():
        raise CliError("--device-id must not be blank")
    base_url = _check_base_url(args.base_url)
    start_date = args.start_date or (datetime.now(TASHKENT) - timedelta(days=365)).date().isoformat()
    store = TokenStore(args.token_store or default_token_path(args.client_id, args.device_id))
    with LoginClient(base_url) as client:
        lifetime = client.request_otp(phone)
        minutes = f" (valid {lifetime // 60} min)" if lifetime else ""
        note(f"A one-time password was sent to {phone[:6]}***{phone[-2:]}{minutes}.")
        otp = _read_otp(phone, args.otp_from_stdin)
        result = client.login(
            phone=phone,
            otp=otp,
            device_id=args.device_id,
            client_id=args.client_id,
            scopes=_scopes(args.scopes),
        )
    with store.rotation_lock():
        store.save(result.refresh_token)
        Path(str(store.path) + ".seed").unlink(missing_ok=True)
    common: dict[str, Any] = {
        "base_url": base_url,
        "client_id": args.client_id,
        "device_id": args.device_id,
        "start_date": start_date,
    }
    configs = {
        "airbyte": {
            **common,
            "refresh_token": result.refresh_token if args.show_secrets else AIRBYTE_PLACEHOLDER,
        },
        "singer": {**common, "refresh_token": TOKEN_IN_STORE, "token_store_path": str(store.path)},
        "token_store_path": str(store.path),
        "scopes": list(result.scopes),
    }
    out(json.dumps(configs, indent=2))
    note(f"Logged in; the refresh token is saved in {store.path} (mode 0600).")
    if not args.show_secrets:
        note(
            "Airbyte: put the token into refresh_token, e.g. "
            f"jq -r .refresh_token '{store.path}', or rerun with --show-secrets. "
            "Singer and `trastpay` commands read it from token_store_path; no secret in their config."
        )
    return 0
