"""The one-process sync (``pipeline.streamed``) against the simulator on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.client import CallLogsClient, make_client
from pipeline.config import Secret
from pipeline.errors import WarehouseError
from pipeline.lake import Lake
from pipeline.load import load_lake_into_warehouse
from pipeline.retry import RetryPolicy
from pipeline.streamed import SyncResult, sync_into_warehouse
from pipeline.sync import extract_to_lake
from pipeline.warehouse import LoadStats, PartitionLoad, Warehouse
from simulator import SimulatorConfig, SimulatorServer
from tests.e2e.helpers import assert_warehouse_equals_truth, warehouse_rows
from tests.simulator_client import FROZEN_NOW
from tests.test_sync import END, START, BrokenFor, settings_for

DAYS = (END - START).days
# The load's own clock (sync_state.synced_at) is the only value two loads of one lake differ in.
LOAD_TIME_COLUMNS = {("sync_state", "synced_at")}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(seed=11, now=FROZEN_NOW, history_days=5, calls_per_day=60)
    with SimulatorServer(config) as server:
        yield server


def _sync(
    settings: Any, warehouse: Warehouse, *, batch_rows: int, client: CallLogsClient | None = None
) -> tuple[SyncResult, Lake]:
    lake = Lake(settings.lake_location)
    with client or make_client(settings) as opened:
        result = sync_into_warehouse(
            settings,
            START,
            END,
            client=opened,
            lake=lake,
            warehouse=warehouse,
            now=FROZEN_NOW,
            batch_rows=batch_rows,
            run_id="run-1",
        )
    return result, lake


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, without the columns that hold the load's own clock."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        names = [row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        out: dict[str, list[tuple[Any, ...]]] = {}
        for name in sorted(names):
            columns = [
                row[0]
                for row in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                    "ORDER BY column_index",
                    [name],
                ).fetchall()
                if (name, row[0]) not in LOAD_TIME_COLUMNS
            ]
            quoted = ", ".join(f'"{column}"' for column in columns)
            rows = con.execute(f'SELECT {quoted} FROM "{name}"').fetchall()
            out[name] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


class CountingWarehouse(Warehouse):
    """A real warehouse that notes the size of each batch it is given."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.batches: list[int] = []

    def load_partitions(self, loads: Sequence[PartitionLoad]) -> LoadStats:
        self.batches.append(len(loads))
        return super().load_partitions(loads)


def test_the_warehouse_equals_loading_the_lake_it_wrote(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(sim, tmp_path / "streamed")
    warehouse = CountingWarehouse(settings.warehouse_path)
    result, lake = _sync(settings, warehouse, batch_rows=400)
    partitions = len(sim.assistant_ids) * DAYS
    assert result.load.partitions == partitions
    assert result.load.calls == result.extract.total("calls") > 0
    assert result.load.utterances == result.extract.total("utterances")
    assert len(warehouse.batches) > 1  # loaded while reading, not in one piece at the end
    assert sum(warehouse.batches) == partitions

    again = Warehouse(tmp_path / "from_lake.duckdb")
    load_lake_into_warehouse(
        lake, again, START, END, outcomes=result.extract.outcomes, run_id="run-1"
    )
    streamed, from_lake = _tables(settings.warehouse_path), _tables(again.path)
    assert set(streamed) == set(from_lake)
    for name in streamed:
        assert streamed[name] == from_lake[name], name
    assert streamed["call_logs"] and streamed["transcripts"] and streamed["daily_assistant_metrics"]
    start = FROZEN_NOW.replace(hour=0) - timedelta(days=2)
    assert_warehouse_equals_truth(settings.warehouse_path, sim, start, FROZEN_NOW)


def test_a_full_batch_holds_back_the_extraction(sim: SimulatorServer, tmp_path: Path) -> None:
    # One row per batch: no partition is queued while another waits, so each batch is one.
    settings = settings_for(sim, tmp_path)
    warehouse = CountingWarehouse(settings.warehouse_path)
    _sync(settings, warehouse, batch_rows=1)
    assert warehouse.batches == [1] * (len(sim.assistant_ids) * DAYS)


def test_one_assistants_failure_leaves_the_others_loaded_and_recorded(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(sim, tmp_path)
    broken, *healthy = sim.assistant_ids
    client = CallLogsClient(
        sim.url, Secret(sim.api_key), retry=RetryPolicy(budget_s=1.0, base_delay_s=0.01),
        transport=BrokenFor(broken),
    )  # fmt: skip
    result, _ = _sync(settings, Warehouse(settings.warehouse_path), batch_rows=400, client=client)
    assert [o.assistant_id for o in result.extract.failed] == [broken]
    assert result.load.partitions == DAYS * len(healthy)
    start = FROZEN_NOW.replace(hour=0) - timedelta(days=2)
    assert_warehouse_equals_truth(settings.warehouse_path, sim, start, FROZEN_NOW, healthy)
    failed = warehouse_rows(
        settings.warehouse_path,
        "SELECT count(*) FROM sync_status WHERE assistant_id = ? AND status = 'failed'",
        [broken],
    )
    assert failed == [(DAYS,)]


class FailingWarehouse(Warehouse):
    """A real warehouse whose second batch fails as a full disk would."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls = 0

    def load_partitions(self, loads: Sequence[PartitionLoad]) -> LoadStats:
        self.calls += 1
        if self.calls == 2:
            raise WarehouseError(f"warehouse {self.path}: loading failed: no space left on device")
        return super().load_partitions(loads)


def test_a_warehouse_failure_stops_the_sync_with_its_message(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(sim, tmp_path)
    warehouse = FailingWarehouse(settings.warehouse_path)
    with pytest.raises(WarehouseError, match="no space left on device"):
        _sync(settings, warehouse, batch_rows=1)
    assert warehouse.calls == 2  # nothing is loaded after the failure
    assert not [t for t in threading.enumerate() if t.name == "warehouse-load"]
    # The batch loaded before the failure is whole: one partition, with its sync record.
    loaded = warehouse_rows(settings.warehouse_path, "SELECT count(*) FROM sync_state")
    assert loaded == [(1,)]


def test_the_lake_load_of_the_same_run_loads_nothing_again(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(sim, tmp_path)
    result, lake = _sync(settings, Warehouse(settings.warehouse_path), batch_rows=400)
    before = _tables(settings.warehouse_path)
    warehouse = CountingWarehouse(settings.warehouse_path)
    stats = load_lake_into_warehouse(
        lake, warehouse, START, END, outcomes=result.extract.outcomes, run_id="run-1"
    )
    assert warehouse.batches == []  # every partition is held at the lake's version
    assert (stats.partitions, stats.calls, stats.utterances, stats.rejected) == (
        result.load.partitions,
        result.load.calls,
        result.load.utterances,
        result.load.rejected,
    )
    assert _tables(settings.warehouse_path) == before

    # One day read again: the lake holds a newer version of its partitions, and only those load.
    day = START + timedelta(days=1)
    with make_client(settings) as client:
        again = extract_to_lake(
            settings, day, day + timedelta(days=1), client=client, lake=lake, now=FROZEN_NOW
        )
    stats = load_lake_into_warehouse(
        lake, warehouse, day, day + timedelta(days=1), outcomes=again.outcomes, run_id="run-2"
    )
    assert warehouse.batches == [len(sim.assistant_ids)]
    assert stats.partitions == len(sim.assistant_ids)
