"""Throughput of the sandbox's statement path, as a client sees it.

Starts a sandbox subprocess (one customer, ``--transactions`` card operations), logs in, then
pages every card through ``POST /statement`` at page_size 1000 with a minimal client (urllib3,
one pooled keep-alive connection, orjson), several times: the first pass is cold (first touch
builds and caches the serialized card days), the others warm. Prints records/s, pages/s and
bytes/s per pass, and the rate without the client's own JSON parsing (server + transfer only).
Run it on a quiet machine: the client and the server share the cores.

    .venv/bin/python bench/sandbox_throughput.py [--transactions 200000] [--passes 3] [--profile-server]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import orjson
import urllib3

from trastpay_sandbox.testing import SandboxServer

FROM = "2000-01-01T00:00:00+05:00"
TO = "2100-01-01T00:00:00+05:00"


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _page_all(
    pool: urllib3.HTTPConnectionPool, headers: dict[str, str], cards: list[str]
) -> tuple[int, int, int, float]:
    """Read every page of every card; answers (records, pages, bytes, seconds spent parsing JSON)."""
    records = pages = size = 0
    parsing = 0.0
    for card in cards:
        page: int | None = 1  # statement pages are 1-based (the contract)
        while page is not None:
            body = orjson.dumps({"card_token": card, "from": FROM, "to": TO, "page": page, "page_size": 1000})
            response = pool.urlopen("POST", "/api/v1/trastpay/statement", body=body, headers=headers)
            if response.status != 200:
                raise SystemExit(
                    f"statement page {page} of {card}: HTTP {response.status}: {response.data[:200]!r}"
                )
            began = time.perf_counter()
            document: dict[str, Any] = orjson.loads(response.data)
            parsing += time.perf_counter() - began
            records += len(document["items"])
            pages += 1
            size += len(response.data)
            page = document["next_page"]
    return records, pages, size, parsing


def profile_server_path(transactions: int, history_days: int) -> None:
    """cProfile the app's statement path in-process (no sockets): where the server spends its time."""
    import asyncio
    import cProfile
    import pstats

    from trastpay_sandbox.app import create_app
    from trastpay_sandbox.options import SandboxOptions
    from trastpay_sandbox.world import SandboxSettings, World

    world = World(SandboxSettings(customers=1, transactions=transactions, history_days=history_days))
    app = create_app(world, SandboxOptions())
    customer = world.customers()[0]
    auth = app.state.sandbox.auth
    auth.request_otp(customer.phone)
    code = auth.pending_otp(customer.phone)["otp"]
    token = auth.login(customer.phone, code, "dev-bench", "bench", None)["access_token"]
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"x-device-id", b"dev-bench")]

    async def call(card: str, page: int) -> int | None:
        body = orjson.dumps({"card_token": card, "from": FROM, "to": TO, "page": page, "page_size": 1000})
        scope = {"type": "http", "method": "POST", "path": "/api/v1/trastpay/statement", "query_string": b"",
                 "headers": headers, "http_version": "1.1", "scheme": "http", "root_path": "",
                 "server": ("127.0.0.1", 0), "client": ("127.0.0.1", 0)}  # fmt: skip
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Any) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, send)
        tail = b"".join(chunks)[-40:]
        marker = tail.rsplit(b'"next_page":', 1)[1].rstrip(b"}")
        return None if marker == b"null" else int(marker)

    async def one_pass() -> None:
        for card in customer.card_tokens:
            page: int | None = 1  # statement pages are 1-based (the contract)
            while page is not None:
                page = await call(card, page)

    async def run() -> None:
        await one_pass()
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        await one_pass()
        profiler.disable()
        print(f"warm in-process pass: {time.perf_counter() - began:.2f} s (under cProfile)")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=200_000)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--history-days", type=int, default=400)
    parser.add_argument("--profile-server", action="store_true", help="cProfile the app in-process instead")
    args = parser.parse_args()
    if args.profile_server:
        profile_server_path(args.transactions, args.history_days)
        return

    started = time.perf_counter()
    with SandboxServer(
        customers=1, transactions=args.transactions, history_days=args.history_days
    ) as sandbox:
        print(f"sandbox up in {time.perf_counter() - started:.1f} s at {sandbox.base_url}")
        phone = sandbox.customers()[0]["phone"]
        tokens = sandbox.login(phone, scopes=["cards:read", "statements:read"])
        headers = {
            "Authorization": f"Bearer {tokens['access_token']}",
            "X-Device-Id": "dev-test",
            "Content-Type": "application/json",
        }
        port = int(sandbox.base_url.rsplit(":", 1)[1])
        pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1, retries=False, timeout=120)
        cards_response = pool.urlopen("GET", "/api/v1/trastpay/cards?page_size=1000", headers=headers)
        cards = [card["card_token"] for card in orjson.loads(cards_response.data)["items"]]
        print(f"{len(cards)} cards, {args.transactions:,} transactions requested")
        for number in range(1, args.passes + 1):
            label = "cold" if number == 1 else "warm"
            server_cpu = _cpu_seconds(sandbox.pid)
            client_cpu = time.process_time()
            began = time.perf_counter()
            records, pages, size, parsing = _page_all(pool, headers, cards)
            elapsed = time.perf_counter() - began
            server_cpu = max(_cpu_seconds(sandbox.pid) - server_cpu, 1e-9)
            client_cpu = time.process_time() - client_cpu
            http_only = max(elapsed - parsing, 1e-9)
            print(
                f"pass {number} ({label}): {records:,} records, {pages:,} pages, {size / 1e6:,.1f} MB in "
                f"{elapsed:.2f} s -> {records / elapsed:,.0f} records/s, {pages / elapsed:,.1f} pages/s, "
                f"{size / elapsed / 1e6:,.1f} MB/s\n"
                f"    without client JSON parsing ({parsing:.2f} s): {records / http_only:,.0f} records/s; "
                f"CPU: server {server_cpu:.2f} s ({records / server_cpu:,.0f} records per server CPU-s), "
                f"client {client_cpu:.2f} s"
            )
        pool.close()


if __name__ == "__main__":
    main()
