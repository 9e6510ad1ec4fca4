"""What the adapters drive: check, partitions and reads of every stream, with checkpoints.

A read yields records in cursor order and, after each page, a :class:`Checkpoint` holding the
cursor to save for that partition. The checkpoint is ``max(incoming cursor, greatest cursor
yielded)``: it never moves backwards (a lookback window re-reads older records without lowering
it) and never passes a record that has not been yielded yet (it is emitted after its page),
nor the API's ``complete_until`` watermark (:mod:`trastpay.watermark`). Every partition read
leaves a :class:`~trastpay.completeness.PartitionAudit` in :attr:`TrastpaySession.audit`, which
the ``sync_audit`` stream emits last.
"""

from __future__ import annotations

import logging
import operator
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat
from typing import Any
from urllib.parse import quote

from trastpay.auth import RotationHeld, TokenGrant
from trastpay.client import TrastpayClient
from trastpay.completeness import PartitionAudit, SyncAudit
from trastpay.config import Backfill, TrastpayConfig
from trastpay.cursors import TASHKENT, CursorTracker, format_instant, parse_instant, read_start
from trastpay.errors import ConfigError, PaginationError, PayloadError, SchemaDriftError, StateError
from trastpay.masking import clean_server_text, might_contain_pan, scrub_pans
from trastpay.read_ahead import PageBudget, ReadAhead
from trastpay.records import RecordProcessor
from trastpay.streams import StreamDef, get_stream
from trastpay.watermark import LateFinder, Watermark

Clock = Callable[[], datetime]
READ_AHEAD_RECORDS = 5_000
"""Records the read-ahead may hold at once across all partitions (the page being processed
included) when pages are small: at page_size 100, 50 pages, enough to keep every connection of a
latency-bound sync busy while the partitions wait their turn (``bench/latency.py``)."""
READ_AHEAD_PAGE_RECORDS = 2_000_000
"""Large pages get a smaller budget: ``READ_AHEAD_PAGE_RECORDS // page_size`` records (at least
two pages). A page of 1000 records hides a round trip by itself, and what it costs in memory is
more than its records: its ~600 KB body and its parse are one burst of large allocations, made in
the thread that fetched it, that leaves that thread's malloc arena holding the space. At the
default page_size of 1000 the budget is two pages: the one processed and the next one, fetched
meanwhile; a partition waiting its turn starts fetching when its pages are small enough to fit
beside them (few records per card), else when the one before it ends."""
READ_AHEAD_BYTES = 4 * 2**20
"""Bytes of raw page bodies the read-ahead may hold at once (binds when records are larger than usual)."""


def read_ahead_records(page_size: int) -> int:
    """The read-ahead budget in records for ``page_size`` (see :data:`READ_AHEAD_PAGE_RECORDS`)."""
    return max(2 * page_size, min(READ_AHEAD_RECORDS, READ_AHEAD_PAGE_RECORDS // page_size))


logger = logging.getLogger("trastpay.completeness")


@dataclass(frozen=True, slots=True)
class PageRecords:
    """One answer: its records, whether its raw body provably held no card number, its
    ``complete_until``, the retries it took, the window ``[start, end)`` it was asked for, and its
    raw body's length in bytes (what the read-ahead budget counts)."""

    items: list[Any]
    pan_free: bool
    complete_until: Any = None
    retries: int = 0
    start: datetime | None = None
    end: datetime | None = None
    size: int = 0


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


def _page_weight(page: PageRecords) -> tuple[int, int]:
    """What a page weighs against the read-ahead budget: its records and its raw body's bytes."""
    return len(page.items), page.size


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
        self.audit = SyncAudit(self._now(), check=config.completeness_check)
        """What each partition read of this sync did (the ``sync_audit`` stream's records)."""

    @property
    def passes_state_through(self) -> bool:
        """A backfill: every STATE the adapters emit must be the incoming state, unchanged."""
        return self.config.backfill is not None

    def _backfill_of(self, stream: StreamDef) -> Backfill | None:
        backfill = self.config.backfill
        return backfill if backfill is not None and stream.name in backfill.streams else None

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
        """Every partition of ``stream``, read from its parent through the same client.

        In a backfill, a stream it does not name has none (it is not read at all), and its
        ``card_tokens`` narrow the card-partitioned streams further.
        """
        backfill = self.config.backfill
        if backfill is not None and stream.request_style != "audit" and stream.name not in backfill.streams:
            return
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
        backfill = self._backfill_of(stream)
        if backfill is not None and backfill.card_tokens and parent.name == "cards":
            self._require_linked_cards(keys, backfill.card_tokens, "backfill.card_tokens")
            keys = [key for key in keys if key in backfill.card_tokens]
        for key in keys:
            yield Partition(key, {field_name: key})

    def _parent_keys(self, parent: StreamDef, parent_key: str) -> list[str]:
        """The parent's ids, listed once per session (card_transactions and statements share the cards)."""
        keys = self._parent_ids_seen.get((parent.name, parent_key))
        if keys is None:
            keys = list(dict.fromkeys(self._parent_ids(parent, parent_key)))
            self._parent_ids_seen[(parent.name, parent_key)] = keys
        return keys

    def _require_linked_cards(
        self, linked: list[str], wanted: Sequence[str] | None = None, name: str = "card_tokens"
    ) -> None:
        """Every configured ``card_tokens`` entry must be one of the profile's cards."""
        chosen = self.config.card_tokens if wanted is None else wanted
        missing = [token for token in chosen or () if token not in linked]
        if missing:
            raise ConfigError(
                name,
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not linked to this "
                "Trastpay profile; remove it or read the cards stream for valid tokens",
            )

    def _parent_ids(self, parent: StreamDef, parent_key: str) -> Iterator[str]:
        for page in self._pages(parent, parent.path, None, None, None):
            for item in page.items:
                value = item.get(parent_key) if isinstance(item, dict) else None
                if not isinstance(value, str) or not value:
                    raise PayloadError(
                        f"Stream '{parent.name}': a record has no '{parent_key}' (needed for partitions)."
                    )
                if might_contain_pan(value) and scrub_pans(value) != value:
                    # a partition key reaches URLs, state and logs: a card number must never be one
                    raise SchemaDriftError(
                        f"Stream '{parent.name}': '{parent_key}' of a record holds a card number; "
                        "it is refused as a partition key."
                    )
                yield value

    def read_ahead(self, stream: StreamDef, plan: Sequence[tuple[Partition, str | None]]) -> None:
        """Announce the partitions (and their saved cursors) :meth:`read` will be asked for, in order.

        Up to ``max_concurrency`` of them are then fetched in background threads while earlier
        ones are consumed (see :mod:`trastpay.read_ahead`); :meth:`read` still hands over records,
        checkpoints and errors exactly in the order a serial read would. The partitions waiting
        their turn share one budget in records (:func:`read_ahead_records`) and
        :data:`READ_AHEAD_BYTES` bytes of raw page bodies with the partition being read (its page
        being processed counts), so memory stays flat however many cards a sync reads. A plan of
        one partition still gets one thread: its next page travels and is parsed while the current
        one is processed.
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
        budget = PageBudget(read_ahead_records(self.config.page_size), READ_AHEAD_BYTES)
        self._ahead[stream.name] = ReadAhead(
            entries, workers=self.config.max_concurrency, budget=budget, weigh=_page_weight
        )

    def read(
        self, stream: StreamDef, partition: Partition, cursor: str | None
    ) -> Iterator[dict[str, Any] | Checkpoint]:
        """Records of one partition in cursor order, each page followed by a :class:`Checkpoint`.

        ``sync_audit`` yields the audit records of every partition finished so far. The same
        sequence as :meth:`read_pages`, one record at a time.
        """
        for item in self.read_pages(stream, partition, cursor):
            if type(item) is list:
                yield from item
            else:
                yield item  # type: ignore[misc]  # a Checkpoint

    def read_pages(
        self, stream: StreamDef, partition: Partition, cursor: str | None
    ) -> Iterator[list[dict[str, Any]] | Checkpoint]:
        """What :meth:`read` yields, a page at a time: each non-empty list holds the checked,
        masked records of one page (in cursor order), and every :class:`Checkpoint` is safe to
        emit once the records yielded before it are written. Adapters that write a page at once
        use this; the records and checkpoints are exactly :meth:`read`'s.
        """
        if stream.partitioned and partition.key is None:
            raise ValueError(f"stream '{stream.name}' is partitioned: read it per partition")
        if stream.request_style == "audit":
            for since, record in enumerate(self.audit.records(), start=1):
                yield [record]
                if since % STATE_EVERY_RECORDS == 0:
                    yield Checkpoint(None, forced=True)  # one partition per record: there may be thousands
            yield Checkpoint(None)
            return
        backfill = self._backfill_of(stream)
        if self.config.backfill is not None and backfill is None:
            yield Checkpoint(cursor if stream.incremental else None)  # a backfill reads only its streams
            return
        processor = self.processor(stream)
        audit = PartitionAudit(
            stream.name,
            partition.key,
            "backfill" if backfill else "incremental" if stream.incremental else "full_refresh",
            cursor_in=cursor,
        )
        if not stream.incremental:
            allow = self.config.card_tokens if stream.name == "cards" else None
            for page in self._pages_of(stream, partition, cursor):
                self._note_page(audit, page)
                records, _ = processor.process_page(page.items, partition.key, pan_free=page.pan_free)
                if allow is not None:
                    records = [record for record in records if record.get("card_token") in allow]
                audit.records += len(records)
                if records:
                    yield records
            self.audit.finish(audit)
            yield Checkpoint(None)
            return
        yield from self._read_incremental(stream, partition, cursor, audit, processor)

    def _read_incremental(
        self,
        stream: StreamDef,
        partition: Partition,
        cursor: str | None,
        audit: PartitionAudit,
        processor: RecordProcessor,
    ) -> Iterator[list[dict[str, Any]] | Checkpoint]:
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
        process_page = processor.process_page
        cursor_of = operator.itemgetter(cursor_field)
        key = partition.key
        card_operations = stream.name == "card_transactions" and bool(key)
        pages_read = 0
        last = cursor
        backfill = audit.mode == "backfill"
        watermark = Watermark()
        late = LateFinder(cursor_field, None if backfill else cursor)
        statements: list[dict[str, Any]] | None = [] if stream.name == "statements" and key else None
        for page in self._pages_of(stream, partition, cursor):
            pages_read += 1
            self._note_page(audit, page)
            watermark.observe(page.complete_until, stream.path)
            # A page is checked whole before any of it is handed over: never part of a broken page.
            records, columns = process_page(page.items, key, pan_free=page.pan_free)
            try:
                cursors = columns.values.get(cursor_field) if columns is not None else None
                tracker.observe_all(cursors if cursors is not None else list(map(cursor_of, records)))
                late.scan(records, audit, columns)
                checkpoint = cursor if backfill else watermark.cap(tracker.checkpoint(), cursor)
            except ValueError:
                raise PayloadError(
                    f"Stream '{stream.name}': field '{cursor_field}' is not an RFC 3339 timestamp."
                ) from None
            if card_operations and key is not None:
                try:
                    self.audit.observe_card_operations(key, records, columns)
                except ValueError:
                    raise PayloadError(
                        f"Stream '{stream.name}' (partition {key}): field 'posted_at' or 'reversed_at' "
                        "is not an RFC 3339 timestamp."
                    ) from None
            if statements is not None:
                statements.extend(records)
            audit.records += len(records)
            if records:
                yield records
            since = self._since_state.get(stream.name, 0) + len(records)
            forced = since >= STATE_EVERY_RECORDS
            self._since_state[stream.name] = 0 if forced or checkpoint != last else since
            last = checkpoint
            audit.cursor_out = checkpoint
            yield Checkpoint(checkpoint, forced)
        if pages_read == 0:
            audit.cursor_out = cursor
            yield Checkpoint(cursor)
        audit.complete_until = watermark.text
        if audit.late_records:
            logger.warning(
                "Stream '%s'%s: %d record(s) found late behind the saved position %s, the oldest at %s "
                "(re-read window %s); if that is near the window's start, the window is too short.",
                stream.name,
                f" partition {key}" if key else "",
                audit.late_records,
                cursor,
                audit.late_oldest_cursor,
                audit.window_text(),
            )
        self.audit.finish(audit)
        if statements is not None:
            self.audit.check_statements(audit, statements)

    @staticmethod
    def _note_page(audit: PartitionAudit, page: PageRecords) -> None:
        audit.pages += 1
        audit.retries += page.retries
        if audit.pages == 1:
            audit.window_start, audit.window_end = page.start, page.end

    def _pages_of(self, stream: StreamDef, partition: Partition, cursor: str | None) -> Iterator[PageRecords]:
        """The pages of one partition: from the read-ahead when it was announced, else fetched here."""
        ahead = self._ahead.get(stream.name)
        pages = ahead.take((partition.key, cursor)) if ahead is not None else None
        return pages if pages is not None else self._page_producer(stream, partition, cursor)()

    def _window(
        self, stream: StreamDef, cursor: str | None, now: datetime
    ) -> tuple[datetime, datetime | None]:
        """``[start, end)`` of a read: the backfill's window, else from the re-read start to ``end_date``."""
        backfill = self._backfill_of(stream)
        if backfill is not None:
            return backfill.start, min(backfill.end, now + timedelta(seconds=1))
        start = read_start(self.config, stream, parse_instant(cursor) if cursor is not None else None)
        end = self.config.end_date
        return start, (min(end, now + timedelta(seconds=1)) if end is not None else None)

    def _page_producer(
        self, stream: StreamDef, partition: Partition, cursor: str | None
    ) -> Callable[[], Iterator[PageRecords]]:
        """What fetches one partition's pages (everything that needs the network, none of the records).

        An incremental partition whose saved cursor is later than "now" (or than ``end_date``) has
        no pages, except in a backfill, which ignores the saved cursor.
        """
        path = stream.path.replace("{parent_id}", quote(partition.key or "", safe=""))

        def produce() -> Iterator[PageRecords]:
            if not stream.incremental:
                yield from self._pages(stream, path, None, None, partition.key)
                return
            saved = parse_instant(cursor) if cursor is not None else None
            now = self.now()
            start, end = self._window(stream, cursor, now)
            backfill = self._backfill_of(stream) is not None
            if not backfill and saved is not None and (saved > now or (end is not None and saved >= end)):
                return
            if end is not None and end <= start:
                return
            if stream.request_style == "statement":
                yield from self._statement_pages(stream, partition, start, end or now + timedelta(seconds=1))
            else:
                yield from self._pages(stream, path, start, end, partition.key)

        return produce

    def _pages(
        self,
        stream: StreamDef,
        path: str,
        since: datetime | None,
        until: datetime | None,
        key: str | None,
    ) -> Iterator[PageRecords]:
        """The pages of a ``full`` or ``list`` endpoint of partition ``key``, following ``next_page``."""
        if stream.request_style == "full":
            page = self.client.get_page(path, scope=stream.scope)
            items = self._items(stream, page.payload, path)
            yield PageRecords(items, page.pan_free, retries=page.retries, size=page.size)
            return
        params: dict[str, Any] = {"page_size": self.config.page_size}
        if since is not None:
            params["since"] = format_instant(since)
        if until is not None:
            params["until"] = format_instant(until)
        progress = PageProgress(stream, key)
        while True:
            page = self.client.get_page(path, params, scope=stream.scope)
            items = self._items(stream, page.payload, path)
            next_page = page.payload.get("next_page")
            if next_page is not None and (not isinstance(next_page, str) or not next_page):
                raise PayloadError(f"GET {path}: 'next_page' is not a page token string.")
            progress.check(items, page.payload, next_page)
            complete_until = page.payload.get("complete_until")
            yield PageRecords(items, page.pan_free, complete_until, page.retries, since, until, page.size)
            if next_page is None:
                return
            params = {**params, "page_token": next_page}

    def _statement_pages(
        self, stream: StreamDef, partition: Partition, start: datetime, end: datetime
    ) -> Iterator[PageRecords]:
        body: dict[str, Any] = {
            "card_token": partition.key,
            "from": format_instant(start),
            "to": format_instant(end),
            "include_commission": True,
            "page": 1,  # 1-based, as the contract says
            "page_size": self.config.page_size,
        }
        progress = PageProgress(stream, partition.key)
        while True:
            page = self.client.post_page(stream.path, body, scope=stream.scope)
            items = self._items(stream, page.payload, stream.path)
            next_page = page.payload.get("next_page")
            if next_page is not None and (type(next_page) is not int or next_page <= body["page"]):
                raise PayloadError(f"POST {stream.path}: 'next_page' is not a later page number.")
            progress.check(items, page.payload, next_page)
            yield PageRecords(
                items, page.pan_free, page.payload.get("complete_until"), page.retries, start, end, page.size
            )
            if next_page is None:
                return
            body = {**body, "page": next_page}

    @staticmethod
    def _items(stream: StreamDef, page: dict[str, Any], path: str) -> list[Any]:
        items = page.get("items")
        if not isinstance(items, list):
            raise PayloadError(f"{path}: the answer for stream '{stream.name}' has no 'items' list.")
        return items


MAX_EMPTY_PAGES = 3
"""Empty pages in a row that may still name a next page (a server may filter after its limit)."""


class PageProgress:
    """Proves that each page of one partition moves forward, so a broken or hostile server cannot
    keep a stream reading (and emitting duplicates) forever.

    A page must not repeat a ``next_page`` token already followed, must not hold only records the
    page before it held (its cursor did not advance, whatever token came with it), must not be the
    fourth empty page in a row that names a next page (:data:`MAX_EMPTY_PAGES`), and must not go
    past a ``total_pages`` the answer declares.
    Pages never overlap whole: keyset pages are disjoint, and an offset page shifted by a new
    record repeats at most that one record.
    """

    __slots__ = ("_empty", "_key", "_pages", "_previous", "_primary_key", "_stream", "_tokens")

    def __init__(self, stream: StreamDef, key: str | None) -> None:
        self._stream = stream.name
        self._key = key
        self._primary_key = stream.primary_key
        self._tokens: set[object] = set()
        self._previous: frozenset[tuple[object, ...]] = frozenset()
        self._pages = 0
        self._empty = 0

    def check(self, items: list[Any], payload: dict[str, Any], next_page: object) -> None:
        """Raise :class:`PaginationError` when this page (the next of the partition) proves no progress."""
        self._pages += 1
        names = self._primary_key
        try:
            if names and set(map(type, items)) <= {dict}:  # the usual page: its keys gathered in C
                keys = frozenset(zip(*(map(dict.get, items, repeat(name)) for name in names), strict=True))
            else:
                keys = frozenset(
                    tuple(item.get(name) for name in names) for item in items if isinstance(item, dict)
                )
        except TypeError:  # an object or array where a key belongs
            where = f" (partition {clean_server_text(self._key, 60)})" if self._key is not None else ""
            raise SchemaDriftError(
                f"Stream '{self._stream}'{where}, page {self._pages}: a primary key field "
                f"({', '.join(names)}) holds an object or an array."
            ) from None
        if keys and keys <= self._previous:
            raise self._stuck("holds only records of the page before it (its cursor does not advance)")
        if next_page is not None:
            self._empty = 0 if items else self._empty + 1
            if self._empty > MAX_EMPTY_PAGES:
                raise self._stuck(f"is empty but names a next page, for the {self._empty}th time in a row")
            if next_page in self._tokens:
                raise self._stuck("repeats the next_page of an earlier page")
            self._tokens.add(next_page)
        total = payload.get("total_pages")
        if type(total) is int and self._pages > total:
            raise self._stuck(f"is beyond the {total} pages the answer declared")
        self._previous = keys

    def _stuck(self, why: str) -> PaginationError:
        where = f" (partition {clean_server_text(self._key, 60)})" if self._key is not None else ""
        return PaginationError(
            f"Stream '{self._stream}'{where}, page {self._pages}: the answer {why}; the stream stops "
            "instead of reading the same pages again."
        )


__all__ = ["Checkpoint", "PageProgress", "Partition", "TrastpaySession"]
