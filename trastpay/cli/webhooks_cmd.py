"""``trastpay webhooks serve`` (a verifying receiver) and ``trastpay webhooks replay`` (sandbox).

Secrets come from environment variables named on the command line, never from argv itself, so
they stay out of shell history and process listings. ``serve`` prints its URL as the first line
of stdout once it accepts connections, logs one line per delivery (event id, type, outcome or the
reason for a rejection; never a secret) and stops cleanly on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

from trastpay.cli.common import CliError, note, out
from trastpay.webhook_receiver import ReceiverSecrets, WebhookReceiver, WebhookStore, WebhookVerifier
from trastpay.webhook_signatures import DEFAULT_TOLERANCE_S

DEFAULT_SANDBOX_URL = "http://127.0.0.1:8765"


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a TCP port (0-65535; 0 picks a free one)")
    return int(text)


def _grace_until(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not an ISO 8601 time like 2026-03-05T12:00:00+05:00"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"'{text}' needs a UTC offset, e.g. 2026-03-05T12:00:00+05:00")
    return moment


def add_parser(commands: Any) -> None:
    webhooks = commands.add_parser("webhooks", help="receive or replay webhooks", description="Webhooks.")
    actions = webhooks.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = actions.add_parser(
        "serve",
        help="run a receiver that verifies and stores webhook events",
        description="Verify X-Trastpay-Signature (constant time, 5 minute window, no replays), apply each "
        "X-Idempotency-Key once into a SQLite file, answer 2xx for duplicates and 4xx with a reason for "
        "bad deliveries.",
    )
    serve.add_argument("--secret-env", required=True, metavar="NAME", help="env variable holding the secret")
    serve.add_argument(
        "--previous-secret-env", metavar="NAME", help="env variable holding the previous secret (rotation)"
    )
    serve.add_argument(
        "--grace-until", type=_grace_until, metavar="ISO", help="accept the previous secret until this time"
    )
    serve.add_argument("--db", required=True, type=Path, help="SQLite file for applied events")
    serve.add_argument("--port", required=True, type=_port, help="TCP port (0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument(
        "--register-with-sandbox",
        metavar="URL",
        help="once listening, subscribe this receiver at the sandbox (e.g. http://127.0.0.1:8765); "
        "without it nothing is delivered until the URL is registered",
    )
    serve.set_defaults(handler=run_serve)
    replay = actions.add_parser(
        "replay",
        help="ask the sandbox to redeliver a range of events",
        description="POST /_sandbox/webhooks/replay: the sandbox redelivers events from..to (inclusive).",
    )
    replay.add_argument("--from-event", required=True, metavar="ID", help="first event id (evt_...)")
    replay.add_argument("--to-event", required=True, metavar="ID", help="last event id (evt_...)")
    replay.add_argument(
        "--sandbox-url", default=DEFAULT_SANDBOX_URL, help=f"sandbox root URL (default {DEFAULT_SANDBOX_URL})"
    )
    replay.set_defaults(handler=run_replay)


def _secret_from_env(name: str, option: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise CliError(f"{option}: environment variable {name} is not set or empty")
    return value


def build_verifier(args: argparse.Namespace) -> WebhookVerifier:
    if (args.previous_secret_env is None) != (args.grace_until is None):
        raise CliError("--previous-secret-env and --grace-until go together")
    previous = (
        _secret_from_env(args.previous_secret_env, "--previous-secret-env")
        if args.previous_secret_env
        else None
    )
    secrets = ReceiverSecrets(
        current=_secret_from_env(args.secret_env, "--secret-env"),
        previous=previous,
        grace_until=args.grace_until,
    )
    try:
        store = WebhookStore(args.db)
    except Exception as exc:
        raise CliError(f"cannot open the SQLite file {args.db} ({type(exc).__name__}: {exc})") from None
    return WebhookVerifier(store, secrets, tolerance_s=DEFAULT_TOLERANCE_S)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_serve(args: argparse.Namespace) -> int:
    verifier = build_verifier(args)
    try:
        receiver = WebhookReceiver(verifier, host=args.host, port=args.port)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port} ({exc.strerror})") from None
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    out(receiver.url)
    sys.stdout.flush()
    try:
        if args.register_with_sandbox:
            secret = _secret_from_env(args.secret_env, "--secret-env")
            _register(args.register_with_sandbox, receiver.url, secret)
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
    counts = verifier.counts
    note(
        f"Stopped: {counts['applied']} applied, {counts['duplicate']} duplicates, "
        f"{counts['rejected']} rejected."
    )
    return 0


def _register(sandbox_url: str, receiver_url: str, secret: str) -> None:
    """``POST /_sandbox/webhooks`` for this receiver (it already accepts connections)."""
    parts = urlsplit(sandbox_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"--register-with-sandbox must be an http(s) URL, e.g. {DEFAULT_SANDBOX_URL}")
    body = orjson.dumps({"url": receiver_url, "secret": secret})
    try:
        response = requests.post(
            sandbox_url.rstrip("/") + "/_sandbox/webhooks",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
    except requests.RequestException as exc:
        raise CliError(f"could not reach the sandbox at {sandbox_url} ({type(exc).__name__})") from None
    if response.status_code != 201:
        raise CliError(f"the sandbox refused the subscription ({response.status_code})")
    note(f"Subscribed at the sandbox ({response.json().get('subscription_id')}); deliveries follow.")


def run_replay(args: argparse.Namespace) -> int:
    parts = urlsplit(args.sandbox_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"--sandbox-url must be an http(s) URL, e.g. {DEFAULT_SANDBOX_URL}")
    url = args.sandbox_url.rstrip("/") + "/_sandbox/webhooks/replay"
    body = {"from_event": args.from_event, "to_event": args.to_event}
    try:
        response = requests.post(
            url, data=orjson.dumps(body), headers={"Content-Type": "application/json"}, timeout=30
        )
    except requests.RequestException as exc:
        raise CliError(f"could not reach the sandbox at {args.sandbox_url} ({type(exc).__name__})") from None
    try:
        answer = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        answer = None
    if not response.ok:
        detail = answer.get("detail") if isinstance(answer, dict) else None
        raise CliError(f"the sandbox refused the replay ({response.status_code}): {detail or 'no details'}")
    if not isinstance(answer, dict):
        raise CliError("the sandbox answered the replay with something that is not JSON")
    out(f"Replay queued: {answer.get('events')} events, {answer.get('deliveries_queued')} deliveries.")
    return 0
