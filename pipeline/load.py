"""The second stage of a sync: lake → warehouse, exactly the partitions a run synced."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import pyarrow as pa

from pipeline.errors import ConfigError
from pipeline.lake import Lake
from pipeline.outcome import AssistantOutcome, assistant_rows, failure_rows
from pipeline.warehouse import LoadStats, PartitionLoad, Warehouse
from pipeline.windows import days_between


def load_lake_into_warehouse(
    lake: Lake,
    warehouse: Warehouse,
    start_day: date,
    end_day: date,
    *,
    outcomes: Sequence[AssistantOutcome] | None = None,
    run_id: str | None = None,
    batch_rows: int = 50_000,
) -> LoadStats:
    """Replace warehouse rows and metrics of lake partitions in ``[start_day, end_day)``.

    With ``outcomes`` (what the run's extraction did) exactly the partitions it synced are
    loaded, its failures are recorded in ``sync_failures`` and its assistants in ``assistants``;
    without, every lake partition of the range is loaded. Partitions are loaded in transactions of
    about ``batch_rows`` rows (calls + utterances), so memory stays flat however long the range;
    each partition is replaced whole within one of them.

    With ``outcomes``, a partition the warehouse already holds as of the very lake version (its
    ``extracted_at`` is the lake's ``synced_at``: the run's extraction loaded it as it wrote it,
    see ``pipeline.streamed``) is not loaded again; it still counts in the returned totals.
    """
    if outcomes is None:
        keys = sorted(lake.list_partitions("sync_windows", days=days_between(start_day, end_day)))
    else:
        keys = sorted({(day, o.assistant_id) for o in outcomes for day in o.synced_days})
    warehouse.ensure_schema()
    began = time.monotonic()
    held = warehouse.loaded_partitions(keys) if outcomes is not None else {}
    total = LoadStats.nothing()
    pending: list[PartitionLoad] = []
    pending_rows = 0
    for index, (day, assistant) in enumerate(keys):
        window = _sync_window(lake, day, assistant)
        loaded = held.get((day, assistant))
        if loaded is not None and loaded.extracted_at == window["synced_at"]:
            total += loaded.as_stats()
        else:
            load = _partition_load(lake, day, assistant, window)
            pending.append(load)
            pending_rows += load.rows
        if not pending or (pending_rows < batch_rows and index < len(keys) - 1):
            continue
        total += warehouse.load_partitions(pending)
        pending, pending_rows = [], 0
    if outcomes is not None:
        warehouse.record_outcome(failure_rows(outcomes, run_id), assistant_rows(outcomes))
    return replace(total, seconds=time.monotonic() - began)


def _read(lake: Lake, table: str, day: date, assistant_id: str) -> pa.Table:
    data = lake.read_partition(table, day, assistant_id)
    if data is None:
        raise ConfigError(
            f"lake partition {table}/{day}/{assistant_id} is missing while its sync record "
            "exists; rerun the sync for that day to rewrite it"
        )
    return data


def _sync_window(lake: Lake, day: date, assistant_id: str) -> dict[str, Any]:
    """The partition's sync record (``sync_windows``): its window, totals and ``synced_at``."""
    row: dict[str, Any] = _read(lake, "sync_windows", day, assistant_id).to_pylist()[0]
    return row


def _partition_load(
    lake: Lake, day: date, assistant_id: str, window: dict[str, Any]
) -> PartitionLoad:
    def read(table: str) -> pa.Table:
        return _read(lake, table, day, assistant_id)

    # Partitions written before unreadable windows were recorded have none.
    unreadable = lake.read_partition("unreadable_windows", day, assistant_id)
    return PartitionLoad(
        call_date=day,
        assistant_id=assistant_id,
        call_logs=read("call_logs"),
        transcripts=read("transcripts"),
        rejected_logs=read("rejected_logs"),
        window_end=window["window_end"],
        api_total=int(window["api_total"]),
        verified_calls=int(window["verified_calls"]),
        requests=int(window["requests"]),
        extracted_at=window["synced_at"],
        unreadable_windows=unreadable,
    )
