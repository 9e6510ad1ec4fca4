"""``trastpay auth login``: one OTP login per consumer, and a config that consumer uses as printed.

Refresh tokens are single use: two programs holding tokens of one login (one "family") spend them
against each other, and the first spent token presented revokes the login for both. So a login is
made *for* one consumer (``--for airbyte|singer|cli``), with its own device id
(``<host>-<consumer>`` unless ``--device-id`` is given), and its tokens go only where that consumer
keeps them:

* ``airbyte``: nowhere on this machine; the printed config carries ``refresh_token``,
  ``access_token`` and ``token_expiry_date`` and is what you paste into the Airbyte source (or
  hand to PyAirbyte). Written 0600 with ``--output FILE``; printed to stdout only when stdout is not
  a terminal (redirected to a file) or with ``--show-secrets``.
* ``singer`` / ``cli``: the token store (atomic, 0600, one file per client and device); the printed
  config names it and holds no secret. A store that belongs to another consumer is refused.

The OTP is read without echo (or one line from stdin with ``--otp-from-stdin``) and never
printed. Hints go to stderr.
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trastpay.auth import format_expiry
from trastpay.cli.common import CliError, note, out, write_atomic
from trastpay.cursors import TASHKENT
from trastpay.login import DEFAULT_CLIENT_ID, LoginClient, check_phone
from trastpay.token_store import TOKEN_IN_STORE, TokenStore, default_token_path

DEFAULT_BASE_URL = "http://127.0.0.1:8765/api/v1/trastpay"
CONSUMERS = ("airbyte", "singer", "cli")


def add_parser(commands: Any) -> None:
    auth = commands.add_parser("auth", help="log in and manage credentials", description="Credentials.")
    actions = auth.add_subparsers(dest="action", required=True, metavar="ACTION")
    login = actions.add_parser(
        "login",
        help="log in with a one-time password for one consumer (airbyte, singer or cli)",
        description="Request an OTP for the phone, read it (not echoed), log in for one consumer and "
        "print (or write with --output) the config that consumer uses. Airbyte keeps the tokens in its "
        "source config; the Singer tap and the trastpay commands keep them in the token store.",
    )
    login.add_argument("--phone", required=True, help="phone of the Trastpay profile, +998 and 9 digits")
    login.add_argument(
        "--for",
        dest="consumer",
        choices=CONSUMERS,
        default="cli",
        help="who will use this login (default cli); each needs its own login",
    )
    login.add_argument(
        "--device-id", help="device id the tokens are bound to (default: <host name>-<consumer>)"
    )
    login.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help=f"default {DEFAULT_CLIENT_ID}")
    login.add_argument(
        "--base-url", default=DEFAULT_BASE_URL, help=f"API base URL (default {DEFAULT_BASE_URL})"
    )
    login.add_argument(
        "--token-store", type=Path, help="singer/cli: token store file (default: the user config directory)"
    )
    login.add_argument("--scopes", nargs="+", help="scopes to request (default: all the API offers)")
    login.add_argument("--start-date", help="start_date of the printed config (default: one year ago)")
    login.add_argument(
        "--output", type=Path, help="write the config to this file (mode 0600) instead of stdout"
    )
    login.add_argument(
        "--otp-from-stdin", action="store_true", help="read the OTP as one line from stdin (for scripts)"
    )
    login.add_argument(
        "--show-secrets",
        action="store_true",
        help="airbyte: print the config with its tokens even when stdout is a terminal",
    )
    login.set_defaults(handler=run_login)


def default_device_id(consumer: str) -> str:
    """``<host name>-<consumer>``, reduced to the visible ASCII a device id allows."""
    host = "".join(c for c in socket.gethostname() if "!" <= c <= "~")[:100] or "host"
    return f"{host}-{consumer}"


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
    consumer: str = args.consumer
    device_id = default_device_id(consumer) if args.device_id is None else args.device_id
    if not device_id.strip():
        raise CliError("--device-id must not be blank")
    base_url = _check_base_url(args.base_url)
    start_date = args.start_date or (datetime.now(TASHKENT) - timedelta(days=365)).date().isoformat()
    store: TokenStore | None = None
    if consumer == "airbyte":
        if args.token_store is not None:
            raise CliError(
                "--token-store does not apply to --for airbyte: Airbyte keeps the tokens in the source "
                "config, and a copy in a token store would be a second holder of the same login"
            )
        if args.output is None and sys.stdout.isatty() and not args.show_secrets:
            raise CliError(
                "the Airbyte config holds the refresh token: write it with --output FILE "
                "(or redirect stdout to a file)"
            )
    else:
        store = TokenStore(args.token_store or default_token_path(args.client_id, device_id))
        _refuse_other_consumer(store, consumer)
    with LoginClient(base_url) as client:
        lifetime = client.request_otp(phone)
        minutes = f" (valid {lifetime // 60} min)" if lifetime else ""
        note(f"A one-time password was sent to {phone[:6]}***{phone[-2:]}{minutes}.")
        otp = _read_otp(phone, args.otp_from_stdin)
        logged_in = datetime.now(UTC)
        result = client.login(
            phone=phone,
            otp=otp,
            device_id=device_id,
            client_id=args.client_id,
            scopes=_scopes(args.scopes),
        )
    expires_at = logged_in + timedelta(seconds=result.expires_in) if result.expires_in > 0 else None
    config: dict[str, Any] = {
        "base_url": base_url,
        "client_id": args.client_id,
        "device_id": device_id,
        "start_date": start_date,
    }
    if store is None:
        config["refresh_token"] = result.refresh_token
        if expires_at is not None:
            config["access_token"] = result.access_token
            config["token_expiry_date"] = format_expiry(expires_at)
    else:
        with store.rotation_lock():
            store.save(
                result.refresh_token,
                access_token=result.access_token,
                expires_at=expires_at,
                consumer=consumer,
            )
            Path(str(store.path) + ".seed").unlink(missing_ok=True)
        config["refresh_token"] = TOKEN_IN_STORE
        config["token_store_path"] = str(store.path)
    text = json.dumps(config, indent=2) + "\n"
    if args.output is not None:
        write_atomic(args.output, text.encode("utf-8"))
        note(f"Wrote the {consumer} config to {args.output} (mode 0600).")
    else:
        out(text.rstrip("\n"))
    _hint(consumer, store, device_id)
    return 0


def _refuse_other_consumer(store: TokenStore, consumer: str) -> None:
    """A token store holding another consumer's login is not taken over (they would share a family)."""
    stored = store.load_tokens() if store.path.exists() else None
    if stored is not None and stored.consumer not in (None, consumer):
        raise CliError(
            f"the token store {store.path} holds the {stored.consumer} login; a {consumer} login needs its "
            "own device id and store (pass another --device-id, or --token-store)"
        )


def _hint(consumer: str, store: TokenStore | None, device_id: str) -> None:
    if store is None:
        note(
            f"Logged in for Airbyte as device {device_id}. Use this config only for one Airbyte source: "
            "the source keeps the rotated tokens in its config; no copy stays on this machine."
        )
        return
    use = "tap-trastpay (Meltano, Singer)" if consumer == "singer" else "trastpay commands (--config FILE)"
    note(f"Logged in for {use} as device {device_id}; the tokens are in {store.path} (mode 0600).")


__all__ = ["CONSUMERS", "add_parser", "default_device_id", "run_login"]
