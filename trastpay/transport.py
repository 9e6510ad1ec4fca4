"""Bounds on every answer: a total deadline per request and a size cap on every body.

``requests`` only knows a timeout per socket read, so a server that trickles one byte a second, or
streams chunks forever, keeps a request alive indefinitely; and a body is read whole, so a huge
answer (or a small gzip that inflates to gigabytes) takes all the memory. This module gives the
core's one request path (:mod:`trastpay.http`) three things:

* :class:`Deadlines`: one watchdog thread per requestor. Each request is registered with its
  deadline (connect + request + every read, :data:`DEFAULT_DEADLINE_S` unless configured); when it
  passes, the watchdog shuts down that request's socket, which ends any blocked read at once.
  Every request of a requestor has the same budget, so deadlines expire in registration order
  and a queue (no heap) is enough. The connection a request uses is learnt from the pool
  (:func:`watch_pools`), the only place it is visible before the answer arrives.
* :func:`read_capped`: reads a body in pieces, counting the bytes sent and the bytes decoded
  (urllib3 inflates at most the piece asked for), and stops past the cap.
* :func:`header_problem` (from :mod:`trastpay.headers`) and :func:`redirect_target`: what the
  requestor needs to refuse an unsendable header value and to name a redirect without repeating
  what it may carry.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from trastpay.headers import header_problem
from trastpay.masking import clean_server_text

DEFAULT_DEADLINE_S = 120.0
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
PROBLEM_BODY_LIMIT = 1024 * 1024
"""Bytes of an error answer read for its problem document (a longer one is not parsed); the rest
is never read. Its fields are cut to a short length anyway (see :func:`trastpay.problems.read_problem`)."""
_PIECE = 1024 * 1024


class BodyTooLarge(Exception):
    """Internal signal: the body passed the cap (``decoded`` says whether after inflating)."""

    def __init__(self, decoded: bool) -> None:
        super().__init__("body too large")
        self.decoded = decoded


class Watch:
    """One request under a deadline: the connection it uses, and whether the deadline cut it."""

    __slots__ = ("_lock", "connection", "deadline", "done", "expired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connection: Any = None
        self.done = False
        self.expired = False
        self._lock = threading.Lock()

    def finish(self) -> None:
        with self._lock:
            self.done = True
            self.connection = None

    def expire(self) -> None:
        """Shut the request's socket down (reads return at once); its connection is not reused."""
        with self._lock:
            if self.done:
                return
            self.expired = True
            sock = getattr(self.connection, "sock", None)
            if isinstance(sock, socket.socket):
                # the plain socket's shutdown, also under TLS: it wakes a blocked read
                # without touching the TLS state another thread is using
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)


_CURRENT = threading.local()
"""The watch of the request the current thread is sending (read by the watched pools)."""


class Deadlines:
    """Aborts requests that outlive their deadline; see the module docstring."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._queue: deque[Watch] = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def start(self) -> Watch:
        """Register a request now starting; the current thread's pool lookups attach its connection."""
        watch = Watch(self._clock() + self.seconds)
        with self._wake:
            self._queue.append(watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="trastpay-deadlines", daemon=True)
                self._thread.start()
            elif len(self._queue) == 1:
                self._wake.notify()
        _CURRENT.watch = watch
        return watch

    def stop(self, watch: Watch) -> None:
        """The request is over (answered or failed): the watchdog leaves its connection alone."""
        watch.finish()
        _CURRENT.watch = None

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._queue and self._queue[0].done:
                    self._queue.popleft()
                if self._closed:
                    return
                if not self._queue:
                    self._wake.wait()
                    continue
                head = self._queue[0]
                delay = head.deadline - self._clock()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                self._queue.popleft()
            head.expire()


def _attach(connection: Any) -> Any:
    watch: Watch | None = getattr(_CURRENT, "watch", None)
    if watch is not None and not watch.done:
        watch.connection = connection
    return connection


class _WatchedHTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _attach(super()._get_conn(timeout))


class _WatchedHTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _attach(super()._get_conn(timeout))


def watch_pools(adapter: HTTPAdapter) -> None:
    """Make ``adapter``'s pools report each connection they hand out to the current request's watch."""
    adapter.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def read_capped(response: requests.Response, limit: int) -> bytes:
    """The whole (decoded) body, or :class:`BodyTooLarge` once more than ``limit`` bytes were sent or decoded.

    Failures are raised as the requests exceptions ``Response.content`` would raise, so they are
    handled (and retried) alike; a body shorter than its Content-Length is one of them.
    """
    raw = response.raw
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(decoded=False)
    pieces: list[bytes] = []
    total = 0
    try:
        while True:
            piece = raw.read(_PIECE, decode_content=True)
            if not piece:
                break
            total += len(piece)
            if total > limit:
                raise BodyTooLarge(decoded=True)
            if raw.tell() > limit:
                raise BodyTooLarge(decoded=False)
            pieces.append(piece)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except urllib3.exceptions.ProtocolError as exc:  # IncompleteRead, connection reset mid-body
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise requests.exceptions.ConnectionError(exc) from None
    finally:
        response.close()
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def read_problem_body(response: requests.Response) -> bytes:
    """At most :data:`PROBLEM_BODY_LIMIT` bytes of an error answer (enough for any problem document)."""
    pieces: list[bytes] = []
    left = PROBLEM_BODY_LIMIT
    try:
        while left > 0:
            piece = response.raw.read(min(left, _PIECE), decode_content=True)
            if not piece:
                break
            pieces.append(piece)
            left -= len(piece)
    except (urllib3.exceptions.HTTPError, OSError):
        return b""
    finally:
        response.close()
    return b"".join(pieces)


def redirect_target(location: str | None) -> str:
    """A redirect's target as it may appear in a message: scheme, host, port and path only.

    User info, query and fragment are dropped (they may carry credentials), card numbers masked,
    control characters removed and the length capped.
    """
    if not location:
        return "no Location"
    parts = urlsplit(location.strip())
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    host = parts.hostname or ""
    origin = f"{parts.scheme}://{host}{port}" if parts.scheme and host else ""
    return clean_server_text(origin + parts.path, limit=120) or "an unreadable Location"


__all__ = [
    "DEFAULT_DEADLINE_S",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "PROBLEM_BODY_LIMIT",
    "BodyTooLarge",
    "Deadlines",
    "Watch",
    "header_problem",
    "read_capped",
    "read_problem_body",
    "redirect_target",
    "watch_pools",
]
