"""Exact extraction of one assistant's calls in ``[start, end)``, verified against the API's total.

Offset paging over a changing, tie-ridden list cannot be trusted page by page, so every window is
*verified*: after paging it, the number of distinct calls must equal the server's ``total``. A
window that does not verify is cut into parts planned from what was seen (each meant to fit in one
page, never cutting a burst of equal ``started_at``) and fetched again, recursively; a single
millisecond holding more than a page is read ordered by the unique ``room_name`` until the union of
reads reaches the total. Anything that still disagrees raises ``WindowNotConverged`` — never a
silent loss.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson

from pipeline.client import MAX_PAGE_SIZE, CallLogsClient, Page
from pipeline.dayparts import Chunk, DayPart, DaySplitter, Record
from pipeline.errors import PageAlwaysFails, WindowNotConverged
from pipeline.isolate import Unreadable, read_millisecond, readable_chunks
from pipeline.timeparse import parse_timestamp
from pipeline.windows import (
    floor_ms,
    plan_split,
    query_bounds,
    spans_days,
    split_in_half,
    split_into_day_groups,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractOptions:
    page_size: int = MAX_PAGE_SIZE
    chunk_calls: int = 1_000  # windows holding more calls are cut at midnights before paging
    page_parallelism: int = 8  # pages of one window fetched at once (they are verified anyway)
    max_depth: int = 40  # how many times a window may be cut after failing verification
    tie_read_attempts: int = 8  # reads of an unsplittable millisecond before giving up
    # Attempts that all answer the same 500 message, while the API answers others, before a page
    # counts as one the API never serves (its window is then narrowed: pipeline.isolate).
    same_500_attempts: int = 3


@dataclass
class ExtractStats:
    """What extraction did, summed over windows; thread-safe."""

    windows: int = 0
    verified_windows: int = 0
    mismatches: int = 0
    tie_reads: int = 0
    api_total: int = 0
    verified_calls: int = 0
    unreadable_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)


@dataclass
class DayExtract:
    """The complete, deduplicated state of one (assistant, UTC day) as of ``window_end``."""

    assistant_id: str
    day: date
    records: list[Record]
    window_start: datetime
    window_end: datetime
    api_total: int  # the server's count for this day, taken from the verified windows
    verified_calls: int
    requests: int
    unreadable: tuple[Unreadable, ...] = ()


def record_identity(record: Any) -> str:
    """``room_name`` when present; otherwise a content hash, so keyless rows still dedupe."""
    if isinstance(record, Mapping):
        room = record.get("room_name")
        if isinstance(room, str) and room:
            return room
    digest = hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=str))
    return "raw:" + digest.hexdigest()


def record_started_at(record: Any) -> datetime | None:
    return parse_timestamp(record.get("started_at")) if isinstance(record, Mapping) else None


class WindowExtractor:
    """Pages and verifies windows of one API; share one instance across threads."""

    def __init__(
        self,
        client: CallLogsClient,
        *,
        options: ExtractOptions | None = None,
        page_pool: Executor | None = None,
        stats: ExtractStats | None = None,
    ) -> None:
        self._client = client
        self._options = options or ExtractOptions()
        self._pool = page_pool
        self.stats = stats or ExtractStats()

    def extract(self, assistant_id: str, start: datetime, end: datetime) -> Iterator[DayExtract]:
        """Every UTC day of ``[start, end)`` in order, each complete and verified.

        Holds a whole day's raw records; ``extract_parts`` streams in bounded memory instead.
        """
        pending: dict[date, list[DayPart]] = {}
        for part in self.extract_parts(assistant_id, start, end):
            pending.setdefault(part.day, []).append(part)
            if part.complete:
                parts = pending.pop(part.day)
                records = [record for p in parts for record in p.records]
                yield DayExtract(
                    assistant_id=assistant_id,
                    day=part.day,
                    records=records,
                    window_start=part.window_start,
                    window_end=part.window_end,
                    api_total=sum(p.api_total for p in parts),
                    verified_calls=len(records),
                    requests=sum(p.requests for p in parts),
                    unreadable=tuple(u for p in parts for u in p.unreadable),
                )

    def extract_parts(self, assistant_id: str, start: datetime, end: datetime) -> Iterator[DayPart]:
        """Verified pieces of every UTC day of ``[start, end)``, in time order.

        Each piece comes from one verified window of at most about ``chunk_calls`` calls (unless a
        single millisecond holds more), so a day of any size streams through bounded memory; the
        last piece of each day has ``complete=True``. ``end`` must already be frozen (never "now"
        re-read while paging); bounds are taken to whole milliseconds, the API's precision.
        A part the API answers the same 500 for every time is narrowed and left out, as small as
        the API allows, and reported in the pieces' ``unreadable`` (see :mod:`pipeline.isolate`).
        """
        start, end = floor_ms(start), floor_ms(end)
        splitter = DaySplitter(assistant_id, start, end)
        chunks = readable_chunks(
            lambda first, last: self._verified_chunks(assistant_id, first, last, depth=0),
            lambda chunk: chunk.end,
            lambda first, last, failure: self._read_millisecond(assistant_id, first, last, failure),
            start,
            end,
        )
        for chunk in chunks:
            yield from splitter.split(chunk)

    # -- verification --------------------------------------------------------------------------

    def _verified_chunks(
        self, assistant_id: str, start: datetime, end: datetime, depth: int
    ) -> Iterator[Chunk]:
        self.stats.add(windows=1)
        first = self._fetch(assistant_id, start, end, page=1)
        if first.total > self._options.chunk_calls:
            # Bounded memory: a large window is read as several smaller ones — cut at midnights,
            # sized from the total just learnt so that one probe plans a whole range, or within a
            # day at a millisecond (which never splits calls sharing one ``started_at``).
            if spans_days(start, end):
                groups = -(-first.total // self._options.chunk_calls)
                parts = split_into_day_groups(start, end, groups)
            else:
                parts = split_in_half(start, end) or ()
            if parts:
                for part_start, part_end in parts:
                    yield from self._verified_chunks(assistant_id, part_start, part_end, depth)
                return
        chunk = self._page_window(assistant_id, start, end, first)
        if len(chunk.records) == chunk.total:
            self.stats.add(
                verified_windows=1, api_total=chunk.total, verified_calls=len(chunk.records)
            )
            yield chunk
            return
        self.stats.add(mismatches=1)
        log.info(
            "assistant %s window %s..%s: %d distinct calls vs API total %d; re-reading in parts",
            assistant_id,
            start.isoformat(),
            end.isoformat(),
            len(chunk.records),
            chunk.total,
        )
        if depth >= self._options.max_depth:
            raise WindowNotConverged(
                f"assistant {assistant_id}: window {start.isoformat()}..{end.isoformat()} still "
                f"disagrees with the API after {depth} re-reads ({len(chunk.records)} distinct "
                f"calls vs total {chunk.total}); the API is changing too fast or misbehaving — "
                "rerun the sync; if it persists, report it with this message"
            )
        observed = [
            moment
            for moment in (record_started_at(r) for r in chunk.records.values())
            if moment is not None
        ]
        planned = plan_split(start, end, observed, self._options.page_size)
        if planned is None:
            yield self._read_tie(assistant_id, start, end)
            return
        for part_start, part_end in planned:
            yield from self._verified_chunks(assistant_id, part_start, part_end, depth + 1)

    def _page_window(self, assistant_id: str, start: datetime, end: datetime, first: Page) -> Chunk:
        records: dict[str, Record] = {}
        totals = [first.total]
        requests = 1
        fresh = self._keep(records, first.items)
        pages_needed = -(-first.total // self._options.page_size)
        next_page = 2
        batch_size = max(1, self._options.page_parallelism)
        while next_page <= pages_needed and fresh:
            numbers = list(range(next_page, min(pages_needed, next_page + batch_size - 1) + 1))
            pages = self._fetch_many(assistant_id, start, end, numbers)
            requests += len(pages)
            next_page = numbers[-1] + 1
            fresh = 0
            for page in pages:
                totals.append(page.total)
                fresh += self._keep(records, page.items)
            # Loop guard: a batch with nothing new means the server repeats itself or ran dry.
        return Chunk(start, end, records, max(totals), requests)

    def _read_tie(self, assistant_id: str, start: datetime, end: datetime) -> Chunk:
        """A single millisecond with more calls than a page: read by ``room_name`` (unique)."""
        records: dict[str, Record] = {}
        requests = 0
        total = 0
        for _attempt in range(self._options.tie_read_attempts):
            self.stats.add(tie_reads=1)
            pages_needed = 1
            page_number = 1
            while page_number <= pages_needed:
                page = self._fetch(assistant_id, start, end, page=page_number, sort_by="room_name")
                requests += 1
                total = max(total, page.total)
                pages_needed = -(-page.total // self._options.page_size)
                if not self._keep(records, page.items) and page.items:
                    break
                page_number += 1
            if len(records) == total:
                self.stats.add(verified_windows=1, api_total=total, verified_calls=len(records))
                return Chunk(start, end, records, total, requests)
        raise WindowNotConverged(
            f"assistant {assistant_id}: {total} calls share {start.isoformat()} and "
            f"{self._options.tie_read_attempts} reads found only {len(records)}; rerun the sync"
        )

    def _read_millisecond(
        self, assistant_id: str, start: datetime, end: datetime, failure: PageAlwaysFails
    ) -> Chunk:
        """One millisecond holding a call the API never serves: every other call of it, read one
        per page by ``room_name``, and what is left unreadable."""
        read = read_millisecond(
            lambda page: self._fetch(
                assistant_id, start, end, page=page, sort_by="room_name", limit=1
            ),
            record_identity,
            start,
            end,
            failure,
        )
        unreadable = () if read.unreadable is None else (read.unreadable,)
        self.stats.add(unreadable_calls=sum(u.api_count for u in unreadable))
        records = {record_identity(r): r for r in read.records}
        return Chunk(start, end, records, read.total, read.requests, unreadable)

    # -- fetching -----------------------------------------------------------------------------

    def _fetch(
        self,
        assistant_id: str,
        start: datetime,
        end: datetime,
        *,
        page: int,
        sort_by: str = "started_at",
        limit: int | None = None,
    ) -> Page:
        start_date, end_date = query_bounds(start, end)
        return self._client.call_logs_page(
            assistant_id,
            page=page,
            limit=limit or self._options.page_size,
            start_date=start_date,
            end_date=end_date,
            sort_by=sort_by,
            sort_order="asc",
            give_up_after_same_500=self._options.same_500_attempts,
        )

    def _fetch_many(
        self, assistant_id: str, start: datetime, end: datetime, numbers: list[int]
    ) -> list[Page]:
        if self._pool is None or len(numbers) == 1:
            return [self._fetch(assistant_id, start, end, page=n) for n in numbers]
        futures = [
            self._pool.submit(self._fetch, assistant_id, start, end, page=n) for n in numbers
        ]
        return [future.result() for future in futures]

    def _keep(self, records: dict[str, Record], items: list[Any]) -> int:
        """Add a page's records (a later copy replaces an earlier one); count the new ones."""
        fresh = 0
        for item in items:
            key = record_identity(item)
            if key not in records:
                fresh += 1
            records[key] = item
        return fresh
