"""Dagster: materialise partitions and ranges in process against the simulator on loopback."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.assets import METRIC_TABLES, WAREHOUSE_TABLES, build_assets
from dagster_project.definitions import defs
from dagster_project.partitions import daily_partitions
from dagster_project.resources import CallLogsResource
from dagster_project.schedules import range_tags
from pipeline.checks import REGISTRY
from pipeline.sqlfiles import read_sql
from simulator import SimulatorConfig, SimulatorServer, parse_faults
from tests.e2e.helpers import assert_warehouse_equals_truth, warehouse_rows
from tests.simulator_client import FROZEN_NOW

DAY = FROZEN_NOW.date()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(
        seed=3,
        now=FROZEN_NOW,
        history_days=40,
        calls_per_day=60,
        faults=parse_faults("429=0.02,500=0.02,drop=0.01"),
    )
    with SimulatorServer(config) as server:
        yield server


ASSETS = build_assets(daily_partitions(date(2026, 9, 1)))


def resource(sim: SimulatorServer, data_dir: Path) -> CallLogsResource:
    return CallLogsResource.for_environment(
        {
            "CALL_LOGS_API_URL": sim.url,
            "CALL_LOGS_API_KEY": sim.api_key,
            "CALL_LOGS_DATA_DIR": str(data_dir),
            "CALL_LOGS_START_DATE": "2026-09-01",
        }
    )


def materialize_days(
    sim: SimulatorServer, data_dir: Path, start: date, end: date, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dg.materialize(
            ASSETS,
            resources={"calllogs": resource(sim, data_dir)},
            tags=range_tags(start, end),
            instance=instance,
        )


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=FROZEN_NOW.tzinfo)


def test_single_partition_materialises_exactly(sim: SimulatorServer, tmp_path: Path) -> None:
    day = DAY - timedelta(days=2)
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_days(sim, tmp_path, day, day + timedelta(days=1), instance)
        assert result.success
        checks = result.get_asset_check_evaluations()
        failed = [c.check_name for c in checks if not c.passed and c.severity.value == "ERROR"]
        assert failed == []
        mats = result.asset_materializations_for_node("raw_call_logs")
        assert mats and mats[0].partition == day.isoformat()
        meta = mats[0].metadata
        assert meta["api_total"].value == meta["verified_calls"].value
        requests = meta["requests"].value
        assert isinstance(requests, int) and requests >= 1
    assert_warehouse_equals_truth(
        tmp_path / "warehouse.duckdb", sim, midnight(day), midnight(day + timedelta(days=1))
    )


def test_thirty_day_range_is_one_run_and_exact(sim: SimulatorServer, tmp_path: Path) -> None:
    start, end = DAY - timedelta(days=30), DAY
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_days(sim, tmp_path, start, end, instance)
        assert result.success
        partitions = {m.partition for m in result.asset_materializations_for_node("raw_call_logs")}
        assert len(partitions) == 30
        metrics = [
            m
            for m in result.asset_materializations_for_node("warehouse_tables")
            if m.asset_key == dg.AssetKey("daily_assistant_metrics")
        ]
        assert all("answer_rate" in m.metadata for m in metrics)
        plotted = {"outbound_calls", "outbound_answer_rate", "billable_minutes"}
        plotted.add("agent_never_ready_calls")
        assert all(plotted <= set(m.metadata) for m in metrics)  # every day has outbound calls
    checked = assert_warehouse_equals_truth(
        tmp_path / "warehouse.duckdb", sim, midnight(start), midnight(end)
    )
    assert checked > 30 * 4 * 30


def test_rerun_leaves_the_warehouse_unchanged(sim: SimulatorServer, tmp_path: Path) -> None:
    start, end = DAY - timedelta(days=3), DAY
    query = "SELECT * EXCLUDE (fetched_at) FROM call_logs ORDER BY room_name"
    with dg.DagsterInstance.ephemeral() as instance:
        assert materialize_days(sim, tmp_path, start, end, instance).success
        first = warehouse_rows(tmp_path / "warehouse.duckdb", query)
        metrics_first = warehouse_rows(
            tmp_path / "warehouse.duckdb",
            "SELECT * FROM daily_assistant_metrics ORDER BY ALL",
        )
        assert materialize_days(sim, tmp_path, start, end, instance).success
    assert warehouse_rows(tmp_path / "warehouse.duckdb", query) == first
    assert (
        warehouse_rows(
            tmp_path / "warehouse.duckdb", "SELECT * FROM daily_assistant_metrics ORDER BY ALL"
        )
        == metrics_first
    )


def test_definitions_load_with_job_schedule_and_described_checks() -> None:
    definitions = defs()
    job = definitions.resolve_job_def("call_logs_sync")
    assert job.partitions_def is not None
    assert definitions.resolve_schedule_def("incremental_sync").cron_schedule == "0 * * * *"
    graph = definitions.resolve_asset_graph()
    specs = {
        spec.key.name: spec
        for assets in definitions.assets or []
        if isinstance(assets, dg.AssetsDefinition)
        for spec in assets.check_specs
    }
    for check in REGISTRY:  # every registered check, on its asset, described in the UI
        assert specs[check.name].asset_key == dg.AssetKey(check.asset)
        assert specs[check.name].description == check.description
    names = {key.name for key in graph.asset_check_keys}
    assert {check.name for check in REGISTRY} <= names
    assert any("freshness" in name for name in names)  # Dagster's own, with its sensor
    assert definitions.resolve_sensor_def("freshness_checks_sensor") is not None


def test_an_unknown_assistant_fails_the_run_but_not_the_others(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    day = DAY - timedelta(days=1)
    unknown = "00000000-0000-4000-8000-000000000000"
    healthy = sim.assistant_ids[:2]
    calllogs = CallLogsResource.for_environment(
        {
            "CALL_LOGS_API_URL": sim.url,
            "CALL_LOGS_API_KEY": sim.api_key,
            "CALL_LOGS_DATA_DIR": str(tmp_path),
            "CALL_LOGS_START_DATE": "2026-09-01",
            "CALL_LOGS_ASSISTANT_IDS": ",".join([*healthy, unknown]),
        }
    )
    with warnings.catch_warnings(), dg.DagsterInstance.ephemeral() as instance:
        warnings.simplefilter("ignore")
        result = dg.materialize(
            ASSETS,
            resources={"calllogs": calllogs},
            tags=range_tags(day, day + timedelta(days=1)),
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success  # red in the UI ...
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks["assistants_synced"].passed
    assert checks["assistants_synced"].severity == dg.AssetCheckSeverity.ERROR
    assert unknown in (checks["assistants_synced"].description or "")
    assert not checks["reconciliation"].passed  # the unknown one never synced that day
    raw = result.asset_materializations_for_node("raw_call_logs")[0].metadata
    assert raw["assistants_synced"].value == 2 and raw["assistants_failed"].value == 1
    assert unknown in str(raw["failed_assistants"].value)
    # ... and the healthy assistants' rows are in the warehouse all the same.
    assert_warehouse_equals_truth(
        tmp_path / "warehouse.duckdb",
        sim,
        midnight(day),
        midnight(day + timedelta(days=1)),
        healthy,
    )
    failed = warehouse_rows(
        tmp_path / "warehouse.duckdb",
        "SELECT assistant_id, status FROM sync_status WHERE call_date = ? ORDER BY 1",
        [day],
    )
    assert (unknown, "failed") in failed
    assert {(a, "synced") for a in healthy} <= set(failed)


def test_the_asset_graph_says_what_reads_what() -> None:
    graph = defs().resolve_asset_graph()

    def upstream(name: str) -> set[str]:
        return {key.path[-1] for key in graph.get(dg.AssetKey(name)).parent_keys}

    for table in WAREHOUSE_TABLES:
        assert upstream(table) == {"raw_call_logs"}
    everything = set(WAREHOUSE_TABLES) | set(METRIC_TABLES)
    for metric in METRIC_TABLES:
        sql = read_sql(f"metrics/{metric}.sql")
        read = {t for t in everything - {metric} if re.search(rf"\b(FROM|JOIN)\s+{t}\b", sql)}
        if re.search(r"\b(FROM|JOIN)\s+incoming_\w+", sql):
            read.add("raw_call_logs")  # the load's incoming tables are the lake partitions
        assert read, metric
        assert upstream(metric) == read, metric  # the graph is the SQL's own lineage


def test_a_run_loads_the_warehouse_while_extracting(sim: SimulatorServer, tmp_path: Path) -> None:
    start, end = DAY - timedelta(days=3), DAY
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_days(sim, tmp_path, start, end, instance)
        assert result.success
        logs = [entry.user_message for entry in instance.all_logs(result.run_id)]
        streamed = [line for line in logs if line.startswith("loaded while extracting:")]
        assert streamed and "loaded 12 partitions" in streamed[0]  # 4 assistants x 3 days
        calls = [
            m
            for m in result.asset_materializations_for_node("warehouse_tables")
            if m.asset_key == dg.AssetKey("call_logs")
        ]
        assert calls and calls[0].metadata["partitions_loaded"].value == 12
    warehouse = tmp_path / "warehouse.duckdb"
    assert_warehouse_equals_truth(warehouse, sim, midnight(start), midnight(end))


def test_materialising_the_lake_alone_leaves_the_warehouse_alone(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    day = DAY - timedelta(days=2)
    with dg.DagsterInstance.ephemeral() as instance, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dg.materialize(
            ASSETS,
            selection=[dg.AssetKey("raw_call_logs")],
            resources={"calllogs": resource(sim, tmp_path)},
            tags=range_tags(day, day + timedelta(days=1)),
            instance=instance,
        )
        assert result.success
    assert (tmp_path / "lake").exists()
    assert not (tmp_path / "warehouse.duckdb").exists()
