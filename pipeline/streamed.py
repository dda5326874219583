"""A whole sync in one process: API → lake → warehouse, the load running while pages are read.

``extract_to_lake`` then ``load_lake_into_warehouse`` is the Dagster run's shape (two steps, the
lake between them); a program that does both at once need not read back what it has just written.
Here each partition goes to the lake as before and, as it is written, to a loader thread that loads
the partitions in transactions of about ``batch_rows`` rows from the very Arrow tables the lake was
given. DuckDB's work (the load statements, the commit) runs outside the GIL, beside the page
reading, instead of after it. What the warehouse holds at the end is exactly what loading the lake
would give: the tables are the ones the lake files were written from.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from pipeline.client import CallLogsClient
from pipeline.config import Settings
from pipeline.errors import WarehouseError
from pipeline.extract import ExtractOptions
from pipeline.incremental import RunPlan
from pipeline.lake import Lake
from pipeline.outcome import assistant_rows, failure_rows
from pipeline.progress import Progress
from pipeline.sync import ExtractReport, StoredPartition, extract_to_lake
from pipeline.warehouse import LoadStats, PartitionLoad, Warehouse


@dataclass(frozen=True)
class SyncResult:
    extract: ExtractReport
    load: LoadStats


def sync_into_warehouse(
    settings: Settings,
    start_day: date,
    end_day: date,
    *,
    client: CallLogsClient,
    lake: Lake,
    warehouse: Warehouse,
    assistants: Sequence[str] | None = None,
    plan: RunPlan | None = None,
    now: datetime | None = None,
    options: ExtractOptions | None = None,
    progress: Progress | None = None,
    run_id: str | None = None,
    batch_rows: int = 50_000,
) -> SyncResult:
    """``extract_to_lake`` with every stored partition loaded into ``warehouse`` meanwhile.

    The arguments are ``extract_to_lake``'s; the load is ``load_lake_into_warehouse``'s with the
    run's outcomes (exactly the partitions synced; failures and assistants recorded at the end).
    Extraction waits while about ``batch_rows`` rows are already waiting for the loader, so memory
    stays bounded. A warehouse error stops the extraction and is raised; partitions loaded before
    it are complete and stay (each was replaced whole in its transaction).
    """
    with loading_as_stored(warehouse, batch_rows) as loader:
        report = extract_to_lake(
            settings,
            start_day,
            end_day,
            client=client,
            lake=lake,
            assistants=assistants,
            plan=plan,
            now=now,
            options=options,
            progress=progress,
            on_stored=loader.put,
        )
    warehouse.record_outcome(failure_rows(report.outcomes, run_id), assistant_rows(report.outcomes))
    return SyncResult(report, loader.stats)


@contextmanager
def loading_as_stored(warehouse: Warehouse, batch_rows: int = 50_000) -> Iterator[Loader]:
    """A loader thread for the block: pass ``loader.put`` as ``extract_to_lake``'s ``on_stored``.

    Leaving the block loads what is queued and raises a warehouse error, if any; ``loader.stats``
    are then the totals. When the block raises, nothing more is loaded.
    """
    warehouse.ensure_schema()
    loader = Loader(warehouse, batch_rows)
    loader.start()
    try:
        yield loader
    except BaseException:
        loader.abandon()
        raise
    loader.finish()


def partition_load(stored: StoredPartition) -> PartitionLoad:
    """What the warehouse loads for a partition just written to the lake (the same tables)."""
    part = stored.report
    return PartitionLoad(
        call_date=part.day,
        assistant_id=part.assistant_id,
        call_logs=stored.batch.call_logs,
        transcripts=stored.batch.transcripts,
        rejected_logs=stored.batch.rejected_logs,
        window_end=stored.window_end,
        api_total=part.api_total,
        verified_calls=part.verified_calls,
        requests=part.requests,
        extracted_at=stored.synced_at,
        unreadable_windows=stored.unreadable_windows,
    )


class Loader:
    """A thread that loads queued partitions in batches; producers wait while a batch is full."""

    def __init__(self, warehouse: Warehouse, batch_rows: int) -> None:
        self._warehouse = warehouse
        self._batch_rows = max(1, batch_rows)
        self._queued: list[PartitionLoad] = []
        self._queued_rows = 0
        self._closed = False
        self._error: BaseException | None = None
        self._stats = LoadStats.nothing()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="warehouse-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, stored: StoredPartition) -> None:
        """Queue one partition (from any extraction thread); raises the loader's error if any.

        Waits while a whole batch is already queued (the loader takes it as soon as it is free).
        """
        load = partition_load(stored)
        with self._changed:
            while self._error is None and self._queued_rows >= self._batch_rows:
                self._changed.wait()
            self._raise_failure()
            self._queued.append(load)
            self._queued_rows += load.rows
            self._changed.notify_all()

    @property
    def stats(self) -> LoadStats:
        """The totals of every batch loaded so far."""
        return self._stats

    def finish(self) -> None:
        """Load what is left, stop the thread; raises the loader's error if any."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join()
        with self._changed:
            self._raise_failure()

    def abandon(self) -> None:
        """The extraction failed: load nothing more, wait for a batch in progress to end."""
        with self._changed:
            self._queued, self._queued_rows = [], 0
            self._closed = True
            self._changed.notify_all()
        self._thread.join()

    def _raise_failure(self) -> None:
        if self._error is not None:
            if isinstance(self._error, WarehouseError):
                raise self._error
            raise WarehouseError(
                f"warehouse {self._warehouse.path}: the load stopped: "
                f"{type(self._error).__name__}: {self._error}"
            ) from self._error

    def _run(self) -> None:
        # A connection per batch: between batches other processes may open the warehouse.
        try:
            while (batch := self._next_batch()) is not None:
                self._stats += self._warehouse.load_partitions(batch)
        except BaseException as error:  # handed to the extraction threads and finish()
            with self._changed:
                self._error = error
                self._changed.notify_all()

    def _next_batch(self) -> list[PartitionLoad] | None:
        """The queued partitions once a batch is full or the extraction ended; None: done."""
        with self._changed:
            while not self._closed and self._queued_rows < self._batch_rows:
                self._changed.wait()
            batch, self._queued, self._queued_rows = self._queued, [], 0
            self._changed.notify_all()
        return batch or None
