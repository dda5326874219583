"""unreadable_windows in the warehouse: recorded with their partition, first_seen_at kept across
reruns, gone once the window reads; reconciliation counts them, calls_readable fails for them,
and the planner re-reads their days."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline import checks
from pipeline.assistants import CONFIGURED, Roster
from pipeline.config import Settings
from pipeline.incremental import plan_from_warehouse
from pipeline.isolate import Unreadable
from pipeline.sync import unreadable_table
from pipeline.warehouse import PartitionLoad, Warehouse
from tests.warehouse_fixtures import ASSISTANT_A, DAY_1, random_load

POISON_AT = datetime.combine(DAY_1, datetime.min.time(), tzinfo=UTC) + timedelta(
    hours=10, milliseconds=321
)
PART = Unreadable(POISON_AT, POISON_AT + timedelta(milliseconds=1), 1, "HTTP 500 validation")


def with_unreadable(load: PartitionLoad, seen_at: datetime, *parts: Unreadable) -> PartitionLoad:
    table = unreadable_table(load.assistant_id, load.call_date, parts, seen_at=seen_at)
    missing = sum(p.api_count for p in parts)
    return replace(load, unreadable_windows=table, api_total=load.api_total + missing)


def rows(warehouse: Warehouse) -> list[dict[str, Any]]:
    table = warehouse.query("SELECT * FROM unreadable_windows ORDER BY window_start")
    found: list[dict[str, Any]] = table.to_pylist()
    return found


def partitions() -> pa.Table:
    return checks.checked_partitions(
        Warehouse(Path("/nonexistent")), DAY_1, DAY_1, [(DAY_1, ASSISTANT_A)]
    )


def test_a_rerun_keeps_first_seen_at_and_a_window_that_reads_leaves(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    load = random_load(1, DAY_1, ASSISTANT_A)
    first, second = datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    warehouse.load_partitions([with_unreadable(load, first, PART)])
    warehouse.load_partitions([with_unreadable(load, second, PART)])
    (row,) = rows(warehouse)
    assert (row["first_seen_at"], row["last_seen_at"], row["api_count"]) == (first, second, 1)
    assert row["window_end"] - row["window_start"] == timedelta(milliseconds=1)
    status = warehouse.query(
        "SELECT status, unreadable_calls FROM sync_status WHERE assistant_id = $a",
        {"a": ASSISTANT_A},
    ).to_pylist()
    assert status == [{"status": "unreadable", "unreadable_calls": 1}]

    warehouse.load_partitions([load])  # read again, and this time everything reads
    assert rows(warehouse) == []


def test_reconciliation_accounts_for_unreadable_calls_and_calls_readable_fails(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    load = random_load(2, DAY_1, ASSISTANT_A)
    warehouse.load_partitions([with_unreadable(load, datetime.now(UTC), PART)])
    reconciled = checks.reconciliation(warehouse, partitions())
    assert reconciled.passed, reconciled.sample
    assert "(1 call of them recorded in unreadable_windows)" in reconciled.description
    readable = checks.calls_readable(warehouse, partitions())
    assert not readable.passed and not readable.warn_only and readable.failing == 1
    assert readable.description.startswith("1 call in 1 window of 1 partition cannot be read")

    warehouse.load_partitions([load])
    assert checks.calls_readable(warehouse, partitions()).passed


def test_the_planner_reads_a_day_with_unreadable_calls_again(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"CALL_LOGS_DATA_DIR": str(tmp_path), "CALL_LOGS_START_DATE": DAY_1.isoformat()}
    )
    warehouse = settings.warehouse()
    load = random_load(3, DAY_1, ASSISTANT_A)
    now = datetime.combine(DAY_1, datetime.min.time(), tzinfo=UTC) + timedelta(days=40)
    synced = replace(load, window_end=now - timedelta(hours=1))
    warehouse.load_partitions([with_unreadable(synced, now, PART)])
    roster = Roster(ids=(ASSISTANT_A,), source=CONFIGURED)
    (planned,) = plan_from_warehouse(settings, warehouse, roster, now=now).assistants
    assert DAY_1 in planned.days and "1 day with calls the API could not serve" in planned.reason
    warehouse.load_partitions([synced])
    (planned,) = plan_from_warehouse(settings, warehouse, roster, now=now).assistants
    assert DAY_1 not in planned.days
