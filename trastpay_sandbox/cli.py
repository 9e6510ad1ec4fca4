"""``trastpay-sandbox``: run the Trastpay partner API sandbox on 127.0.0.1.

Builds the seeded world, prints where it listens and which customers exist, then serves with
uvicorn (httptools, one worker, no access log: the server must not be what a benchmark measures).
``--port 0`` picks a free port; ``--ready-file`` receives ``{"base_url", "port", "pid"}`` once the
socket accepts connections, which is what :class:`trastpay_sandbox.testing.SandboxServer` waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from trastpay_sandbox.options import DEFAULT_ACCESS_TOKEN_TTL_S, DEFAULT_REFRESH_TOKEN_TTL_S, SandboxOptions
from trastpay_sandbox.switches import FaultConfigError, validate_faults


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _port(text: str) -> int:
    value = _non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 timestamp with offset, got {text!r}"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"the timestamp needs an offset (e.g. +05:00): {text!r}")
    return value


def _faults(text: str) -> dict[str, Any]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--faults is not valid JSON: {exc.msg}") from None
    try:
        return validate_faults(raw)
    except FaultConfigError as exc:
        raise argparse.ArgumentTypeError(f"--faults: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trastpay-sandbox",
        description="Local sandbox of the Trastpay partner API (seeded synthetic data, clock, faults).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8765, help="TCP port; 0 picks a free one (default 8765)"
    )
    parser.add_argument("--seed", type=_non_negative_int, default=42, help="world seed (default 42)")
    parser.add_argument("--customers", type=_positive_int, default=5, help="seeded customers (default 5)")
    parser.add_argument(
        "--transactions",
        type=_non_negative_int,
        default=None,
        help="approximate card transactions over the history (default: realistic volume)",
    )
    parser.add_argument(
        "--history-days", type=_positive_int, default=400, help="days of history (default 400)"
    )
    parser.add_argument(
        "--cards-per-customer",
        type=_positive_int,
        default=None,
        help="link exactly N soum cards to every customer (default: 1-3 soum cards, sometimes a USD card)",
    )
    parser.add_argument(
        "--clock-start",
        type=_timestamp,
        default=None,
        help="sandbox clock start, ISO 8601 with offset (default 2026-11-01T12:00:00+05:00)",
    )
    parser.add_argument("--faults", type=_faults, default={}, help="initial fault switches as JSON")
    parser.add_argument(
        "--refresh-grace",
        action="store_true",
        help="accept the previous refresh token for 60 s while its successor is unused",
    )
    parser.add_argument(
        "--access-token-ttl",
        type=_positive_int,
        default=DEFAULT_ACCESS_TOKEN_TTL_S,
        metavar="S",
        help=f"access token lifetime in seconds (default {DEFAULT_ACCESS_TOKEN_TTL_S})",
    )
    parser.add_argument(
        "--refresh-token-ttl",
        type=_positive_int,
        default=DEFAULT_REFRESH_TOKEN_TTL_S,
        metavar="S",
        help="refresh token lifetime in seconds (default 30 days)",
    )
    parser.add_argument(
        "--rate-limit-per-token",
        type=_positive_float,
        default=None,
        metavar="RPS",
        help="per-access-token rate limit (429 + Retry-After above it)",
    )
    parser.add_argument(
        "--cache-mb",
        type=_non_negative_int,
        default=256,
        help="memory for cached serialized card days (default 256)",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        default=None,
        help="write {base_url, port, pid} as JSON here once the server accepts connections",
    )
    return parser


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"trastpay-sandbox: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _write_ready(path: Path, document: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document), encoding="utf-8")
    os.replace(temporary, path)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import uvicorn

    from trastpay_sandbox.app import create_app
    from trastpay_sandbox.world import SandboxSettings, World

    settings_kwargs: dict[str, Any] = {
        "seed": args.seed,
        "customers": args.customers,
        "transactions": args.transactions,
        "history_days": args.history_days,
        "cards_per_customer": args.cards_per_customer,
        "cache_bytes": args.cache_mb * 1024 * 1024,
    }
    if args.clock_start is not None:
        settings_kwargs["clock_start"] = args.clock_start
    try:
        settings = SandboxSettings(**settings_kwargs)
        options = SandboxOptions(
            access_token_ttl_s=args.access_token_ttl,
            refresh_token_ttl_s=args.refresh_token_ttl,
            refresh_grace=args.refresh_grace,
            faults=args.faults,
            rate_limit_per_token=args.rate_limit_per_token,
            fault_seed=args.seed,
        )
    except ValueError as exc:
        print(f"trastpay-sandbox: {exc}", file=sys.stderr)
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.host.startswith("127."):
        print(
            f"trastpay-sandbox: warning: --host {args.host} is not a loopback address; anyone who can "
            "reach it can read OTPs and issued tokens through /_sandbox. Use it only on a trusted network.",
            file=sys.stderr,
        )
    sock = _bind(args.host, args.port)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    base_url = f"http://{host}:{port}"
    world = World(settings)
    app = create_app(world, options)

    print(f"Trastpay sandbox on {base_url}  (seed {args.seed}, clock {world.now().isoformat()})")
    print(f"  partner API  {base_url}/api/v1/trastpay   contract {base_url}/openapi.yaml")
    print(f"  hooks        {base_url}/_sandbox/  (customers, otp, truth, clock, faults, webhooks)")
    for customer in world.customers():
        print(
            f"  customer {customer.id}  {customer.phone}  {customer.name}  cards: {len(customer.card_tokens)}"
        )
    if args.faults or args.rate_limit_per_token:
        print(f"  faults on: {', '.join(sorted(args.faults)) or 'per_token_rps'}")
    sys.stdout.flush()

    config = uvicorn.Config(
        app,
        http="httptools",
        loop="uvloop",
        workers=1,
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_keep_alive=30,
        date_header=False,  # the app sends Date from the sandbox clock
    )
    ready_file: Path | None = args.ready_file

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and ready_file is not None:
                _write_ready(ready_file, {"base_url": base_url, "port": port, "pid": os.getpid()})

    _Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
