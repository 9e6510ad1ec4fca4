"""A client-bound ceiling: a static server replaying pages recorded from the sandbox.

The sandbox builds each statement page on request (filtering, sorting, serialising ~600 KB of
JSON), on the same two cores as the client it serves: its raw ceiling measures the server as much
as the client. This server answers with bytes recorded once from the sandbox: the card list, every
statement page of the recorded cards (``include_commission`` on, page_size 1000, as the
connectors ask) keyed by its page number, and token refreshes built from a recorded answer with
fresh token strings. It ignores ``from``/``to`` (the recording covers all of history) and checks
no credentials. It runs in its own process (ThreadingHTTPServer, HTTP/1.1 keep-alive), so it
never shares a GIL with the client or the harness.

Statement pages are numbered as the contract numbers them: 1-based, ``next_page`` names the page
to ask for next, and ``"page": 0`` is read as page 1 (``trastpay_sandbox/openapi.yaml``). The
recorder asks for page 1 first and stores each answer under the number it asked for; the server
reads 0 as 1 like the sandbox, so a client starting at 0 (the core) or at 1 (the raw client) gets
the same pages, and a page that was never recorded is a 404, never another page's records.

    .venv/bin/python bench/replay.py serve --recording R   # prints the API URL, serves until killed

Recording runs in its own process too (:func:`record_in_child`): a harness that held hundreds of
megabytes of pages would lend that memory to every client it forks, and ``os.wait4`` would report
it as the client's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import urllib3

FROM = "2000-01-01T00:00:00+05:00"
TO = "2100-01-01T00:00:00+05:00"
PAGE_SIZE = 1000
FIRST_PAGE = 1
"""Statement pages are 1-based (the contract; ``0`` is read as ``1``)."""


@dataclass
class Recording:
    """What the replay server answers: raw response bodies, keyed by what the client asks."""

    api_path: str
    cards: bytes = b""
    refresh: dict[str, Any] = field(default_factory=dict)
    statements: dict[str, dict[int, bytes]] = field(default_factory=dict)
    """Per card, each statement page's raw answer under its (1-based) page number."""

    def records(self, card: str) -> int:
        return sum(len(orjson.loads(page)["items"]) for page in self.statements[card].values())

    def statement_page(self, card: str, page: object) -> bytes | None:
        """The recorded answer to ``{"card_token": card, "page": page}``, or None (not recorded)."""
        pages = self.statements.get(card)
        if pages is None or type(page) is not int or page < 0:
            return None
        return pages.get(max(1, page))  # the contract reads page 0 as page 1

    def save(self, path: Path) -> Path:
        path.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
        return path

    @staticmethod
    def load(path: Path) -> Recording:
        recording: Recording = pickle.loads(path.read_bytes())  # noqa: S301  (a file this bench wrote)
        return recording


def record(
    api_url: str, tokens: dict[str, Any], device_id: str, client_id: str, cards: list[str]
) -> Recording:
    """Fetch the card list, every statement page of ``cards`` and one refresh answer from the sandbox."""
    url = urlsplit(api_url)
    pool = urllib3.HTTPConnectionPool(
        url.hostname or "127.0.0.1", url.port, maxsize=1, retries=False, timeout=600
    )
    headers = {
        "Authorization": f"Bearer {tokens['access_token']}",
        "X-Device-Id": device_id,
        "Content-Type": "application/json",
    }
    recording = Recording(api_path=url.path)
    recording.cards = pool.urlopen("GET", url.path + "/cards", headers=headers).data
    for card in cards:
        pages: dict[int, bytes] = {}
        page: int | None = FIRST_PAGE
        while page is not None:
            body = {"card_token": card, "from": FROM, "to": TO, "include_commission": True}
            body |= {"page": page, "page_size": PAGE_SIZE}
            answer = pool.urlopen("POST", url.path + "/statement", body=orjson.dumps(body), headers=headers)
            if answer.status != 200:
                raise SystemExit(f"recording {card[:6]}…: HTTP {answer.status}: {answer.data[:200]!r}")
            pages[page] = answer.data
            page = orjson.loads(answer.data)["next_page"]
        recording.statements[card] = pages
    refreshed = pool.urlopen(
        "POST",
        url.path + "/auth/refresh",
        body=orjson.dumps(
            {"refresh_token": tokens["refresh_token"], "client_id": client_id, "device_id": device_id}
        ),
        headers={"Content-Type": "application/json", "X-Device-Id": device_id},
    )
    if refreshed.status != 200:
        raise SystemExit(f"recording a refresh: HTTP {refreshed.status}: {refreshed.data[:200]!r}")
    recording.refresh = orjson.loads(refreshed.data)
    pool.close()
    return recording


class ReplayTarget:
    """What the benchmarked clients need from a server (as :class:`SandboxServer`): URL, customer, login.

    The replay server checks no credentials; every login answers the same recorded-shape tokens.
    """

    def __init__(self, api_url: str, refresh: dict[str, Any]) -> None:
        self.api_url = api_url
        self._refresh = refresh

    def customers(self) -> list[dict[str, Any]]:
        return [{"phone": "replay"}]

    def login(self, phone: str, **_: Any) -> dict[str, Any]:
        return {**self._refresh, "access_token": "replay-at-0", "refresh_token": "replay-rt-0"}


def _handler(recording: Recording) -> type[BaseHTTPRequestHandler]:
    issued = count(1)
    cards_path = recording.api_path + "/cards"
    statement_path = recording.api_path + "/statement"
    refresh_path = recording.api_path + "/auth/refresh"

    class Replay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: a log line per request would cost the server more than the answer."""

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return orjson.loads(self.rfile.read(length)) if length else {}

        def do_GET(self) -> None:
            if urlsplit(self.path).path == cards_path:
                self._answer(200, recording.cards)
            else:
                self._answer(404, b'{"type":"not-found","title":"not recorded","status":404}')

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            body = self._body()
            if path == statement_path:
                page = recording.statement_page(str(body.get("card_token")), body.get("page", FIRST_PAGE))
                if page is not None:
                    self._answer(200, page)
                    return
            elif path == refresh_path:
                serial = next(issued)
                answer = {**recording.refresh, "access_token": f"replay-at-{serial}"}
                answer["refresh_token"] = f"replay-rt-{serial}"
                self._answer(200, orjson.dumps(answer))
                return
            self._answer(404, b'{"type":"not-found","title":"not recorded","status":404}')

    return Replay


def refresh_answer_path(recording_path: Path) -> Path:
    """Where :func:`record_in_child` leaves the recorded refresh answer (small JSON, for the logins)."""
    return recording_path.with_suffix(".refresh.json")


def record_in_child(
    api_url: str, tokens: dict[str, Any], device_id: str, client_id: str, cards: list[str], out: Path
) -> dict[str, Any]:
    """Record in a child process (see the module docstring); answers the recorded refresh answer."""
    request = out.with_suffix(".request.json")
    asked = {
        "api_url": api_url,
        "tokens": tokens,
        "device_id": device_id,
        "client_id": client_id,
        "cards": cards,
    }
    request.write_text(json.dumps(asked), encoding="utf-8")
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "record",
        "--request",
        str(request),
        "--out",
        str(out),
    ]
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
    answer: dict[str, Any] = json.loads(refresh_answer_path(out).read_text(encoding="utf-8"))
    return answer


@contextmanager
def replay_server(recording_path: Path) -> Iterator[str]:
    """Serve ``recording_path`` from a child process; yields the API URL (base path included)."""
    command = [sys.executable, str(Path(__file__).resolve()), "serve", "--recording", str(recording_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode().strip()
        if not line.startswith("http://"):
            raise SystemExit(f"replay server did not start: {line!r}")
        yield line
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a recording on a free 127.0.0.1 port")
    serve.add_argument("--recording", type=Path, required=True)
    recorder = sub.add_parser("record", help="record from the sandbox (request: JSON file)")
    recorder.add_argument("--request", type=Path, required=True)
    recorder.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "record":
        asked = json.loads(args.request.read_text(encoding="utf-8"))
        made = record(
            asked["api_url"], asked["tokens"], asked["device_id"], asked["client_id"], asked["cards"]
        )
        made.save(args.out)
        refresh_answer_path(args.out).write_text(json.dumps(made.refresh), encoding="utf-8")
        return
    recording = Recording.load(args.recording)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recording))
    server.daemon_threads = True
    print(f"http://127.0.0.1:{server.server_address[1]}{recording.api_path}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
