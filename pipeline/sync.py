"""The first stage of a sync, as a plain function: API → lake (``pipeline.load`` is the second).

Dagster assets call these (one stage per asset); benchmarks and tests call them directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pyarrow as pa

from pipeline.assistants import resolve_roster
from pipeline.client import CallLogsClient
from pipeline.config import Settings
from pipeline.dayparts import DayPart
from pipeline.errors import CallLogsError, ConfigError, SyncStopped
from pipeline.extract import ExtractOptions, ExtractStats, WindowExtractor
from pipeline.incremental import RunPlan
from pipeline.isolate import Unreadable
from pipeline.lake import Lake
from pipeline.normalize import NormalizedBatch, normalize_records
from pipeline.outcome import (
    FAILED,
    AssistantOutcome,
    concerns_everyone,
    with_status,
)
from pipeline.privacy import phone_hash_key
from pipeline.progress import OverallProgress, Progress
from pipeline.schemas import SYNC_WINDOWS_SCHEMA, UNREADABLE_WINDOWS_SCHEMA
from pipeline.windows import floor_ms, midnight
from pipeline.wording import count

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionReport:
    """What one (day, assistant) partition received from the API."""

    day: date
    assistant_id: str
    calls: int
    utterances: int
    rejected: int
    non_final: int
    api_total: int
    verified_calls: int
    requests: int
    unreadable: tuple[Unreadable, ...] = ()

    @property
    def unreadable_calls(self) -> int:
        return sum(u.api_count for u in self.unreadable)


@dataclass(frozen=True)
class StoredPartition:
    """One partition as it was just written to the lake: what a load in the same process needs."""

    report: PartitionReport
    batch: NormalizedBatch
    unreadable_windows: pa.Table  # UNREADABLE_WINDOWS_SCHEMA
    window_end: datetime
    synced_at: datetime


OnStored = Callable[[StoredPartition], None]


@dataclass
class ExtractReport:
    """Everything the API → lake stage did; the source of Dagster metadata and the summary."""

    assistants: list[str]
    window_start: datetime
    window_end: datetime
    partitions: list[PartitionReport] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    retry_reasons: dict[str, int] = field(default_factory=dict)
    new_fields: set[str] = field(default_factory=set)
    stats: ExtractStats = field(default_factory=ExtractStats)
    outcomes: list[AssistantOutcome] = field(default_factory=list)
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add_new_fields(self, batches: Sequence[NormalizedBatch]) -> None:
        with self._lock:
            for batch in batches:
                self.new_fields.update(batch.new_fields)

    def total(self, name: str) -> int:
        return sum(int(getattr(p, name)) for p in self.partitions)

    def by_day(self, name: str) -> dict[date, int]:
        totals: dict[date, int] = {}
        for part in self.partitions:
            totals[part.day] = totals.get(part.day, 0) + int(getattr(part, name))
        return totals

    @property
    def failed(self) -> list[AssistantOutcome]:
        return with_status(self.outcomes, FAILED)

    def summary(self) -> str:
        failed = f" ({len(self.failed)} failed)" if self.failed else ""
        return (
            f"synced {count(len(self.assistants), 'assistant')}{failed}, "
            f"{count(len({p.day for p in self.partitions}), 'day')}: "
            f"{count(self.total('calls'), 'call')}, "
            f"{count(self.total('utterances'), 'utterance')}, {self.total('rejected')} rejected, "
            f"API total {self.total('api_total')} = verified {self.total('verified_calls')}; "
            f"{count(self.requests, 'request')}, {count(self.retries, 'retry', 'retries')}, "
            f"{count(self.stats.mismatches, 're-read window')} in {self.seconds:.1f}s"
        )


def resolve_assistants(settings: Settings, client: CallLogsClient) -> list[str]:
    """Configured ids, or every assistant the key owns (``GET /assistant/list``)."""
    roster = resolve_roster(settings, client)
    if not roster.ids:
        raise ConfigError(
            "the API lists no assistants for this key; set CALL_LOGS_ASSISTANT_IDS or check the key"
        )
    return list(roster.ids)


def frozen_window(
    start_day: date, end_day: date, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """``[start_day, end_day)`` as instants, the end frozen at ``now`` (never paged open)."""
    if end_day <= start_day:
        raise ConfigError(f"the range {start_day}..{end_day} is empty; --end must be after --start")
    frozen_now = floor_ms(now or datetime.now(UTC))
    return midnight(start_day), min(midnight(end_day), frozen_now)


def extract_to_lake(
    settings: Settings,
    start_day: date,
    end_day: date,
    *,
    client: CallLogsClient,
    lake: Lake,
    assistants: Sequence[str] | None = None,
    plan: RunPlan | None = None,
    now: datetime | None = None,
    options: ExtractOptions | None = None,
    progress: Progress | None = None,
    on_stored: OnStored | None = None,
) -> ExtractReport:
    """Read every assistant's calls for its days and replace its lake partitions.

    ``plan`` says which days each assistant reads (its own ranges inside ``[start_day,
    end_day)``); without it every assistant (``assistants``, else the configured or listed ones)
    reads the whole range. An error that belongs to one assistant (404, a window that never
    converges, its retries exhausted) ends that assistant only: the report's ``outcomes`` say what
    each one did. An error that concerns everyone (the key, an unreachable API, the lake) stops
    the others at once and is raised.

    ``on_stored`` is called with each partition right after it is in the lake, from the thread
    that read it (``pipeline.streamed`` loads them into the warehouse meanwhile); an error it
    raises stops the sync like any error that concerns everyone.
    """
    began = time.monotonic()
    settings.ensure_data_dir()
    frozen_now = floor_ms(now or datetime.now(UTC))
    window_start, window_end = frozen_window(start_day, end_day, frozen_now)
    if plan is None:
        ids = list(assistants) if assistants is not None else resolve_assistants(settings, client)
        plan = RunPlan(start_day, end_day, {a: ((start_day, end_day),) for a in ids}, "range")
    report = ExtractReport(
        assistants=list(plan.assistants), window_start=window_start, window_end=window_end
    )
    report.outcomes = planned_outcomes(plan)
    hash_key = phone_hash_key(settings) if settings.hash_phone_numbers else None
    workers = max(1, min(settings.concurrency, len(plan.assistants)))
    overall = OverallProgress(total=sum(len(o.planned_days) for o in report.outcomes))
    with ThreadPoolExecutor(settings.concurrency, thread_name_prefix="page") as pages:
        extractor = WindowExtractor(client, options=options, page_pool=pages, stats=report.stats)

        def run(outcome: AssistantOutcome) -> list[PartitionReport]:
            done: list[PartitionReport] = []
            try:
                for first, last in plan.assistants[outcome.assistant_id]:
                    start, end = midnight(first), min(midnight(last), frozen_now)
                    if start >= end:
                        continue
                    stored = _extract_range(
                        extractor,
                        outcome.assistant_id,
                        (start, end),
                        lake=lake,
                        report=report,
                        hash_key=hash_key,
                        on_stored=on_stored,
                    )
                    for part in stored:
                        done.append(part)
                        outcome.day_synced(part.day, part.unreadable)
                        if progress is not None:
                            progress(_progress_line(part))
                            overall.day_done(progress)
            except CallLogsError as error:
                if concerns_everyone(error, api_has_answered=client.has_answered):
                    client.stop(error)
                    raise
                outcome.fail(error)
                log.info("assistant %s failed: %s", outcome.assistant_id, outcome.error)
            else:
                outcome.finished_at = datetime.now(UTC)
            return done

        working = [o for o in report.outcomes if o.assistant_id in plan.assistants]
        with ThreadPoolExecutor(workers, thread_name_prefix="assistant") as pool:
            futures = [pool.submit(run, outcome) for outcome in working]
            first_error: BaseException | None = None
            for future in as_completed(futures):
                try:
                    report.partitions.extend(future.result())
                except BaseException as error:  # a stop for everyone: the first one is raised
                    if first_error is None or isinstance(first_error, SyncStopped):
                        first_error = error
            if first_error is not None:
                raise first_error
    report.partitions.sort(key=lambda p: (p.day, p.assistant_id))
    report.requests, report.retries = client.counters.snapshot()
    report.retry_reasons = dict(client.counters.by_reason)
    report.seconds = time.monotonic() - began
    return report


def planned_outcomes(plan: RunPlan) -> list[AssistantOutcome]:
    """An outcome per assistant of the run (synced until it fails), and the removed ones."""
    outcomes = [
        AssistantOutcome(a, planned_days=plan.days_of(a), assistant_name=plan.names.get(a))
        for a in plan.assistants
    ]
    for assistant_id, reason in plan.retire.items():
        retired = AssistantOutcome(assistant_id=assistant_id, planned_days=[])
        retired.remove(reason)
        outcomes.append(retired)
    return outcomes


def _extract_range(
    extractor: WindowExtractor,
    assistant_id: str,
    window: tuple[datetime, datetime],
    *,
    lake: Lake,
    hash_key: bytes | None,
    report: ExtractReport,
    on_stored: OnStored | None,
) -> Iterator[PartitionReport]:
    """Each complete day of one assistant's range, stored in the lake as soon as it is verified."""
    pieces: list[DayPart] = []
    batches: list[NormalizedBatch] = []
    for piece in extractor.extract_parts(assistant_id, *window):
        # Normalise each verified piece at once: a day's raw records never pile up.
        batches.append(_normalize_piece(piece, hash_key))
        pieces.append(piece)
        if not piece.complete:
            continue
        stored = _store_day(pieces, NormalizedBatch.concat(batches), lake)
        report.add_new_fields(batches)
        pieces, batches = [], []
        if on_stored is not None:
            on_stored(stored)
        yield stored.report


def _normalize_piece(piece: DayPart, hash_key: bytes | None) -> NormalizedBatch:
    return normalize_records(
        piece.records,
        assistant_id=piece.assistant_id,
        fallback_day=piece.day,
        fetched_at=datetime.now(UTC),
        phone_hash_key=hash_key,
    ).for_day(piece.day)


def _store_day(pieces: Sequence[DayPart], batch: NormalizedBatch, lake: Lake) -> StoredPartition:
    """Replace one (day, assistant) partition of the lake with its complete, verified state."""
    last = pieces[-1]
    api_total = sum(p.api_total for p in pieces)
    verified = sum(len(p.records) for p in pieces)
    requests = sum(p.requests for p in pieces)
    unreadable = tuple(u for p in pieces for u in p.unreadable)
    lake.write_batch(last.day, last.assistant_id, batch)
    # Written with every partition, empty when all of it reads: a later read clears what it holds.
    unreadable_windows = unreadable_table(
        last.assistant_id, last.day, unreadable, seen_at=datetime.now(UTC)
    )
    lake.write_partition("unreadable_windows", last.day, last.assistant_id, unreadable_windows)
    synced_at = datetime.now(UTC)
    lake.write_partition(
        "sync_windows",
        last.day,
        last.assistant_id,
        pa.Table.from_pylist(
            [
                {
                    "assistant_id": last.assistant_id,
                    "call_date": last.day,
                    "window_end": last.window_end,
                    "api_total": api_total,
                    "verified_calls": verified,
                    "requests": requests,
                    "synced_at": synced_at,
                }
            ],
            schema=SYNC_WINDOWS_SCHEMA,
        ),
    )
    is_final = batch.call_logs.column("is_final").to_pylist()
    report = PartitionReport(
        day=last.day,
        assistant_id=last.assistant_id,
        calls=batch.call_logs.num_rows,
        utterances=batch.transcripts.num_rows,
        rejected=batch.rejected_logs.num_rows,
        non_final=sum(1 for value in is_final if not value),
        api_total=api_total,
        verified_calls=verified,
        requests=requests,
        unreadable=unreadable,
    )
    return StoredPartition(report, batch, unreadable_windows, last.window_end, synced_at)


def unreadable_table(
    assistant_id: str, day: date, parts: Sequence[Unreadable], *, seen_at: datetime
) -> pa.Table:
    """One partition's unreadable parts as the lake stores them."""
    return pa.Table.from_pylist(
        [
            {
                "assistant_id": assistant_id,
                "call_date": day,
                "window_start": part.start,
                "window_end": part.end,
                "api_count": part.api_count,
                "error": part.error,
                "seen_at": seen_at,
            }
            for part in parts
        ],
        schema=UNREADABLE_WINDOWS_SCHEMA,
    )


def _progress_line(part: PartitionReport) -> str:
    extra = f", {part.rejected} rejected" if part.rejected else ""
    if part.unreadable:
        extra += f", {part.unreadable_calls} unreadable"
    pending = f", {part.non_final} in progress" if part.non_final else ""
    return (
        f"assistant {part.assistant_id} day {part.day}: {count(part.calls, 'call')}{extra}"
        f"{pending}, {_requests(part.requests)} (API total {part.api_total}, verified "
        f"{part.verified_calls})"
    )


def _requests(number: int) -> str:
    # A day read in one window with its neighbours has no request of its own.
    return count(number, "request") if number else "read with the days around it"
