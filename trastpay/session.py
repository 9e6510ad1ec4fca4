"""What the adapters drive: check, partitions and reads of every stream, with checkpoints.

A read yields records in cursor order and, after each page, a :class:`Checkpoint` holding the
cursor to save for that partition. The checkpoint is ``max(incoming cursor, greatest cursor
yielded)``: it never moves backwards (a lookback window re-reads older records without lowering
it) and never passes a record that has not been yielded yet (it is emitted after its page).
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from trastpay.auth import RotationHeld, TokenGrant
from trastpay.client import TrastpayClient
from trastpay.config import TrastpayConfig
from trastpay.cursors import TASHKENT, CursorTracker, format_instant, parse_instant, read_start
from trastpay.errors import ConfigError, PayloadError, StateError
from trastpay.read_ahead import ReadAhead
from trastpay.records import RecordProcessor
from trastpay.streams import StreamDef, get_stream

Clock = Callable[[], datetime]
READ_AHEAD_RECORDS = 10_000
"""Records the read-ahead may hold in memory across all partitions waiting their turn (order of 10-20 MB)."""
PageRecords = tuple[list[Any], bool]
"""``(items, pan_free)``: one answer's records and whether its raw body provably held no card number."""


@dataclass(frozen=True, slots=True)
class Partition:
    """One slice of a stream: ``key`` is the parent id (card token, loan id...) or ``None``."""

    key: str | None
    values: dict[str, str] = field(default_factory=dict)


STATE_EVERY_RECORDS = 5_000
"""At most this many records of a stream pass without a checkpoint the adapters must emit as STATE."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The cursor to save for the partition just read (``None``: nothing to save yet).

    ``forced``: emit a STATE for it even if the state did not change. A destination commits what
    it loaded on STATE, and a re-read window (lookback, settlement lag) can run for tens of
    thousands of records without moving a cursor, so the session forces one whenever
    :data:`STATE_EVERY_RECORDS` records of the stream went by without the cursor moving.
    """

    cursor: str | None
    forced: bool = False


def _wall_clock() -> datetime:
    return datetime.now(TASHKENT)


class TrastpaySession:
    """One authenticated connection to the API, shared by every stream and partition of a sync."""

    def __init__(
        self,
        config: TrastpayConfig,
        on_rotate: Callable[[TokenGrant], None],
        clock: Clock | None = None,
        *,
        client: TrastpayClient | None = None,
        lock_factory: Callable[[], AbstractContextManager[object]] | None = None,
        reload: Callable[[], str | None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._now = clock or _wall_clock
        self.client = client or TrastpayClient(
            config, on_rotate=on_rotate, lock_factory=lock_factory, reload=reload, sleep=sleep
        )
        self._processors: dict[str, RecordProcessor] = {}
        self._parent_ids_seen: dict[tuple[str, str], list[str]] = {}
        self._ahead: dict[str, ReadAhead[PageRecords]] = {}
        self._since_state: dict[str, int] = {}  # per stream: records since a moved or forced checkpoint

    def __enter__(self) -> TrastpaySession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for ahead in self._ahead.values():
            ahead.close()
        self._ahead.clear()
        self.client.close()

    def now(self) -> datetime:
        """The later of the local clock and the API's own ``Date``, after making sure we are logged in.

        Taking the server's time into account keeps a client whose clock lags (or a sandbox whose
        clock was advanced) from treating fresh cursors as "in the future".
        """
        self.client.ensure_login()
        local = self._now()
        server = self.client.server_time
        return server if server is not None and server > local else local

    def check(self) -> None:
        """Refresh the login and list the cards (kept for the partitions); raises a typed error.

        Every ``card_tokens`` entry must be one of the listed cards (``ConfigError`` otherwise).
        """
        self.client.ensure_login()
        self._require_linked_cards(self._parent_keys(get_stream("cards"), "card_token"))

    def check_without_rotation(self) -> str:
        """Prove the credentials work without spending the refresh token; says how it proved them.

        With a valid access token (from the config or the token store) the card list is read, which
        also checks ``card_tokens``. Without one, or when the API refuses it, the refresh token is
        introspected (``POST /auth/introspect``): proven live for this client and device, unspent.
        ``card_tokens`` is then checked by the next read, before any stream. A platform may throw
        away whatever a check publishes, so a check that rotated would hand the next run a spent
        token (see docs/auth-flow.md).
        """
        tokens = self.client.tokens
        if tokens.has_valid_access():
            try:
                with tokens.hold_rotation():
                    self._require_linked_cards(self._parent_keys(get_stream("cards"), "card_token"))
                return "access_token"
            except RotationHeld:
                pass
        tokens.introspect()
        return "introspect"

    def processor(self, stream: StreamDef) -> RecordProcessor:
        found = self._processors.get(stream.name)
        if found is None:
            found = self._processors[stream.name] = RecordProcessor(stream, self.config)
        return found

    def partitions(self, stream: StreamDef) -> Iterator[Partition]:
        """Every partition of ``stream``, read from its parent through the same client."""
        if not stream.partitioned:
            yield Partition(None, {})
            return
        if stream.parent is None or stream.parent_key is None:
            raise ValueError(f"stream '{stream.name}' has no parent")
        parent = get_stream(stream.parent)
        field_name = stream.partition_field or stream.parent_key
        keys = self._parent_keys(parent, stream.parent_key)
        allow = self.config.card_tokens if parent.name == "cards" else None
        if allow:
            self._require_linked_cards(keys)
            keys = [key for key in keys if key in allow]
        for key in keys:
            yield Partition(key, {field_name: key})

    def _parent_keys(self, parent: StreamDef, parent_key: str) -> list[str]:
        """The parent's ids, listed once per session (card_transactions and statements share the cards)."""
        keys = self._parent_ids_seen.get((parent.name, parent_key))
        if keys is None:
            keys = list(dict.fromkeys(self._parent_ids(parent, parent_key)))
            self._parent_ids_seen[(parent.name, parent_key)] = keys
        return keys

    def _require_linked_cards(self, linked: list[str]) -> None:
        """Every configured ``card_tokens`` entry must be one of the profile's cards."""
        missing = [token for token in self.config.card_tokens or () if token not in linked]
        if missing:
            raise ConfigError(
                "card_tokens",
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not linked to this "
                "Trastpay profile; remove it or read the cards stream for valid tokens",
            )

    def _parent_ids(self, parent: StreamDef, parent_key: str) -> Iterator[str]:
        for items, _ in self._pages(parent, parent.path, None):
            for item in items:
                value = item.get(parent_key) if isinstance(item, dict) else None
                if not isinstance(value, str) or not value:
                    raise PayloadError(
                        f"Stream '{parent.name}': a record has no '{parent_key}' (needed for partitions)."
                    )
                yield value

    def read_ahead(self, stream: StreamDef, plan: Sequence[tuple[Partition, str | None]]) -> None:
        """Announce the partitions (and their saved cursors) :meth:`read` will be asked for, in order.

        Up to ``max_concurrency`` of them are then fetched in background threads while earlier
        ones are consumed (see :mod:`trastpay.read_ahead`); :meth:`read` still hands over records,
        checkpoints and errors exactly in the order a serial read would. The partitions waiting
        their turn buffer up to :data:`READ_AHEAD_RECORDS` records between them, so the connection
        stays busy while one long partition is consumed. A plan of one partition still gets one
        thread: its next pages travel and are parsed while the current one is processed.
        """
        previous = self._ahead.pop(stream.name, None)
        if previous is not None:
            previous.close()
        if not plan or self.config.max_concurrency < 2:
            return
        entries = [
            ((partition.key, cursor), self._page_producer(stream, partition, cursor))
            for partition, cursor in plan
        ]
        workers = self.config.max_concurrency
        depth = max(2, READ_AHEAD_RECORDS // (self.config.page_size * workers))
        self._ahead[stream.name] = ReadAhead(entries, workers=workers, depth=depth)

    def read(
        self, stream: StreamDef, partition: Partition, cursor: str | None
    ) -> Iterator[dict[str, Any] | Checkpoint]:
        """Records of one partition in cursor order, each page followed by a :class:`Checkpoint`."""
        if stream.partitioned and partition.key is None:
            raise ValueError(f"stream '{stream.name}' is partitioned: read it per partition")
        processor = self.processor(stream)
        if not stream.incremental:
            allow = self.config.card_tokens if stream.name == "cards" else None
            for items, pan_free in self._pages_of(stream, partition, cursor):
                for item in items:
                    record = processor.process(item, partition.key, pan_free=pan_free)
                    if allow is None or record.get("card_token") in allow:
                        yield record
            yield Checkpoint(None)
            return
        try:
            tracker = CursorTracker(cursor)
        except ValueError:
            raise StateError(
                f"State of stream '{stream.name}' (partition {partition.key}): "
                "cursor is not an RFC 3339 timestamp"
            ) from None
        cursor_field = stream.cursor_field
        if cursor_field is None:
            raise ValueError(f"stream '{stream.name}' has no cursor field")
        process = processor.process
        cursor_of = operator.itemgetter(cursor_field)
        key = partition.key
        pages_read = 0
        last = cursor
        for items, pan_free in self._pages_of(stream, partition, cursor):
            pages_read += 1
            # A page is checked whole before any of it is handed over: never part of a broken page.
            records = [process(item, key, pan_free=pan_free) for item in items]
            try:
                tracker.observe_all(list(map(cursor_of, records)))
                checkpoint = tracker.checkpoint()
            except ValueError:
                raise PayloadError(
                    f"Stream '{stream.name}': field '{cursor_field}' is not an RFC 3339 timestamp."
                ) from None
            yield from records
            since = self._since_state.get(stream.name, 0) + len(records)
            forced = since >= STATE_EVERY_RECORDS
            self._since_state[stream.name] = 0 if forced or checkpoint != last else since
            last = checkpoint
            yield Checkpoint(checkpoint, forced)
        if pages_read == 0:
            yield Checkpoint(cursor)

    def _pages_of(self, stream: StreamDef, partition: Partition, cursor: str | None) -> Iterator[PageRecords]:
        """The pages of one partition: from the read-ahead when it was announced, else fetched here."""
        ahead = self._ahead.get(stream.name)
        pages = ahead.take((partition.key, cursor)) if ahead is not None else None
        return pages if pages is not None else self._page_producer(stream, partition, cursor)()

    def _page_producer(
        self, stream: StreamDef, partition: Partition, cursor: str | None
    ) -> Callable[[], Iterator[PageRecords]]:
        """What fetches one partition's pages (everything that needs the network, none of the records).

        An incremental partition whose saved cursor is later than "now" has no pages.
        """
        path = stream.path.replace("{parent_id}", partition.key or "")

        def produce() -> Iterator[PageRecords]:
            if not stream.incremental:
                yield from self._pages(stream, path, None)
                return
            saved = parse_instant(cursor) if cursor is not None else None
            now = self.now()
            if saved is not None and saved > now:
                return
            start = read_start(self.config, stream, saved)
            if stream.request_style == "statement":
                yield from self._statement_pages(stream, partition, start, now)
            else:
                yield from self._pages(stream, path, start)

        return produce

    def _pages(self, stream: StreamDef, path: str, since: datetime | None) -> Iterator[PageRecords]:
        """``(items, pan_free)`` per page of a ``full`` or ``list`` endpoint, following ``next_page``."""
        if stream.request_style == "full":
            page = self.client.get_page(path, scope=stream.scope)
            yield self._items(stream, page.payload, path), page.pan_free
            return
        params: dict[str, Any] = {"page_size": self.config.page_size}
        if since is not None:
            params["since"] = format_instant(since)
        while True:
            page = self.client.get_page(path, params, scope=stream.scope)
            yield self._items(stream, page.payload, path), page.pan_free
            next_page = page.payload.get("next_page")
            if next_page is None:
                return
            if not isinstance(next_page, str) or not next_page:
                raise PayloadError(f"GET {path}: 'next_page' is not a page token string.")
            params = {**params, "page_token": next_page}

    def _statement_pages(
        self, stream: StreamDef, partition: Partition, start: datetime, now: datetime
    ) -> Iterator[PageRecords]:
        body: dict[str, Any] = {
            "card_token": partition.key,
            "from": format_instant(start),
            "to": format_instant(now + timedelta(seconds=1)),
            "include_commission": True,
            "page": 0,
            "page_size": self.config.page_size,
        }
        while True:
            page = self.client.post_page(stream.path, body, scope=stream.scope)
            yield self._items(stream, page.payload, stream.path), page.pan_free
            next_page = page.payload.get("next_page")
            if next_page is None:
                return
            if type(next_page) is not int or next_page <= body["page"]:
                raise PayloadError(f"POST {stream.path}: 'next_page' is not a later page number.")
            body = {**body, "page": next_page}

    @staticmethod
    def _items(stream: StreamDef, page: dict[str, Any], path: str) -> list[Any]:
        items = page.get("items")
        if not isinstance(items, list):
            raise PayloadError(f"{path}: the answer for stream '{stream.name}' has no 'items' list.")
        return items


__all__ = ["Checkpoint", "Partition", "TrastpaySession"]
