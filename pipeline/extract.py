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
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson

from pipeline.client import MAX_PAGE_SIZE, CallLogsClient, Page
from pipeline.errors import WindowNotConverged
from pipeline.timeparse import parse_timestamp
from pipeline.windows import (
    ONE_DAY,
    days_touched,
    floor_ms,
    midnight,
    plan_split,
    query_bounds,
    spans_days,
    split_into_day_groups,
    utc_day,
)

log = logging.getLogger(__name__)

Record = dict[str, Any]


@dataclass(frozen=True)
class ExtractOptions:
    page_size: int = MAX_PAGE_SIZE
    chunk_calls: int = 1_000  # windows holding more calls are cut at midnights before paging
    page_parallelism: int = 8  # pages of one window fetched at once (they are verified anyway)
    max_depth: int = 40  # how many times a window may be cut after failing verification
    tie_read_attempts: int = 8  # reads of an unsplittable millisecond before giving up


@dataclass
class ExtractStats:
    """What extraction did, summed over windows; thread-safe."""

    windows: int = 0
    verified_windows: int = 0
    mismatches: int = 0
    tie_reads: int = 0
    api_total: int = 0
    verified_calls: int = 0
    dropped_out_of_window: int = 0
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


@dataclass
class _Chunk:
    start: datetime
    end: datetime
    records: dict[str, Record]
    total: int
    requests: int


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

    def extract(
        self,
        assistant_id: str,
        start: datetime,
        end: datetime,
        on_day: Callable[[DayExtract], None] | None = None,
    ) -> Iterator[DayExtract]:
        """Every UTC day of ``[start, end)`` in order, each complete and verified.

        ``end`` must already be frozen (never "now" re-read while paging); bounds are taken to
        whole milliseconds, the API's precision.
        """
        start, end = floor_ms(start), floor_ms(end)
        grouper = _DayGrouper(assistant_id, start, end)
        for chunk in self._verified_chunks(assistant_id, start, end, depth=0):
            for day in grouper.add(chunk):
                if on_day is not None:
                    on_day(day)
                yield day
        for day in grouper.finish():
            if on_day is not None:
                on_day(day)
            yield day

    # -- verification --------------------------------------------------------------------------

    def _verified_chunks(
        self, assistant_id: str, start: datetime, end: datetime, depth: int
    ) -> Iterator[_Chunk]:
        self.stats.add(windows=1)
        first = self._fetch(assistant_id, start, end, page=1)
        if first.total > self._options.chunk_calls and spans_days(start, end):
            # Bounded memory: a large range is read as several smaller windows, cut at midnights,
            # sized from the total just learnt so that one probe plans the whole range.
            groups = -(-first.total // self._options.chunk_calls)
            for part_start, part_end in split_into_day_groups(start, end, groups):
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
        parts = plan_split(start, end, observed, self._options.page_size)
        if parts is None:
            yield self._read_tie(assistant_id, start, end)
            return
        for part_start, part_end in parts:
            yield from self._verified_chunks(assistant_id, part_start, part_end, depth + 1)

    def _page_window(
        self, assistant_id: str, start: datetime, end: datetime, first: Page
    ) -> _Chunk:
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
        return _Chunk(start, end, records, max(totals), requests)

    def _read_tie(self, assistant_id: str, start: datetime, end: datetime) -> _Chunk:
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
                return _Chunk(start, end, records, total, requests)
        raise WindowNotConverged(
            f"assistant {assistant_id}: {total} calls share {start.isoformat()} and "
            f"{self._options.tie_read_attempts} reads found only {len(records)}; rerun the sync"
        )

    # -- fetching -----------------------------------------------------------------------------

    def _fetch(
        self,
        assistant_id: str,
        start: datetime,
        end: datetime,
        *,
        page: int,
        sort_by: str = "started_at",
    ) -> Page:
        start_date, end_date = query_bounds(start, end)
        return self._client.call_logs_page(
            assistant_id,
            page=page,
            limit=self._options.page_size,
            start_date=start_date,
            end_date=end_date,
            sort_by=sort_by,
            sort_order="asc",
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


class _DayGrouper:
    """Turns verified chunks (in time order) into complete days, empty days included."""

    def __init__(self, assistant_id: str, start: datetime, end: datetime) -> None:
        self._assistant = assistant_id
        self._start = start
        self._end = end
        self._days = days_touched(start, end)
        self._next = 0
        self._records: dict[date, list[Record]] = {day: [] for day in self._days}
        self._totals: dict[date, int] = dict.fromkeys(self._days, 0)
        self._requests: dict[date, int] = dict.fromkeys(self._days, 0)
        self.dropped = 0

    def add(self, chunk: _Chunk) -> Iterator[DayExtract]:
        fallback = utc_day(chunk.start)
        placed: dict[date, int] = {}
        for record in chunk.records.values():
            moment = record_started_at(record)
            if moment is not None and not (chunk.start <= moment < chunk.end):
                self.dropped += 1  # belongs to a neighbouring window (inclusive server bounds)
                continue
            day = utc_day(moment) if moment is not None else fallback
            self._records[day].append(record)
            placed[day] = placed.get(day, 0) + 1
        chunk_days = days_touched(chunk.start, chunk.end)
        if len(chunk_days) == 1:
            self._totals[chunk_days[0]] += chunk.total
        else:
            for day, count in placed.items():
                self._totals[day] += count
        for day, share in _apportion(
            chunk.requests, [placed.get(d, 0) for d in chunk_days], chunk_days
        ):
            self._requests[day] += share
        return self._emit_until(chunk.end)

    def finish(self) -> Iterator[DayExtract]:
        return self._emit_until(self._end, final=True)

    def _emit_until(self, boundary: datetime, final: bool = False) -> Iterator[DayExtract]:
        while self._next < len(self._days):
            day = self._days[self._next]
            if not final and midnight(day) + ONE_DAY > boundary:
                return
            self._next += 1
            records = self._records.pop(day)
            yield DayExtract(
                assistant_id=self._assistant,
                day=day,
                records=records,
                window_start=max(self._start, midnight(day)),
                window_end=min(self._end, midnight(day) + ONE_DAY),
                api_total=self._totals[day],
                verified_calls=len(records),
                requests=self._requests[day],
            )


def _apportion(amount: int, weights: list[int], days: list[date]) -> list[tuple[date, int]]:
    """Split ``amount`` over ``days`` in proportion to ``weights`` (largest remainder)."""
    total = sum(weights)
    if total == 0:
        return [(days[0], amount)]
    exact = [amount * w / total for w in weights]
    shares = [int(x) for x in exact]
    leftovers = sorted(range(len(days)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in leftovers[: amount - sum(shares)]:
        shares[i] += 1
    return list(zip(days, shares, strict=True))
