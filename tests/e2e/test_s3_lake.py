"""Whole pipeline with the lake on object storage: simulator and S3 (moto) both real, on loopback.

The same exactness as tests/test_sync.py, with ``CALL_LOGS_LAKE_URL=s3://bucket/lake``: the
warehouse equals the simulator's truth, and nothing of the lake lands on the local disk.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.assets import build_assets
from dagster_project.partitions import daily_partitions
from dagster_project.resources import CallLogsResource
from dagster_project.schedules import range_tags
from pipeline.lake import FILE_NAME, RUN_RECORDS
from simulator import SimulatorConfig, SimulatorServer, parse_faults
from tests.e2e.helpers import assert_warehouse_equals_truth
from tests.s3_server import objects
from tests.simulator_client import FROZEN_NOW
from tests.test_sync import END, START, settings_for, sync

TABLES = ("call_logs", "transcripts", "rejected_logs", "sync_windows", "unreadable_windows")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(
        seed=8, now=FROZEN_NOW, history_days=5, faults=parse_faults("429=0.02,500=0.02")
    )
    with SimulatorServer(config) as server:
        yield server


def assert_lake_is_complete(sim: SimulatorServer, endpoint: str, bucket: str) -> None:
    """Every partition of every table, and nothing else but the runs' records."""
    days = [START + timedelta(days=offset) for offset in range((END - START).days)]
    expected = sorted(
        f"lake/{table}/call_date={day}/assistant_id={assistant}/{FILE_NAME}"
        for table in TABLES
        for day in days
        for assistant in sim.assistant_ids
    )
    stored = objects(endpoint, bucket)
    assert [key for key in stored if not key.startswith(f"lake/{RUN_RECORDS}/")] == expected


def test_library_sync_into_an_s3_lake_is_exact(
    sim: SimulatorServer, endpoint: str, bucket: str, tmp_path: Path
) -> None:
    settings = settings_for(sim, tmp_path / "data", CALL_LOGS_LAKE_URL=f"s3://{bucket}/lake")
    lines: list[str] = []
    for _ in range(2):  # the second sync replaces every partition: still exact, no duplicate
        sync(settings, lines)
        start = FROZEN_NOW.replace(hour=0) - timedelta(days=2)
        assert_warehouse_equals_truth(settings.warehouse_path, sim, start, FROZEN_NOW)
    windows = [line for line in lines if not line.startswith("progress: ")]
    assert len(windows) == 2 * len(sim.assistant_ids) * 3
    assert_lake_is_complete(sim, endpoint, bucket)
    assert not (tmp_path / "data" / "lake").exists()


def test_dagster_run_with_an_s3_lake_is_exact_and_its_checks_pass(
    sim: SimulatorServer, endpoint: str, bucket: str, tmp_path: Path
) -> None:
    calllogs = CallLogsResource.for_environment(
        {
            "CALL_LOGS_API_URL": sim.url,
            "CALL_LOGS_API_KEY": sim.api_key,
            "CALL_LOGS_DATA_DIR": str(tmp_path / "data"),
            "CALL_LOGS_LAKE_URL": f"s3://{bucket}/lake",
            "CALL_LOGS_START_DATE": "2026-11-01",
            "CALL_LOGS_S3_ENDPOINT_URL": endpoint,
        }
    )
    with dg.DagsterInstance.ephemeral() as instance, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dg.materialize(
            build_assets(daily_partitions(START)),
            resources={"calllogs": calllogs},
            tags=range_tags(START, END),
            instance=instance,
        )
    assert result.success
    failed = [
        check.check_name
        for check in result.get_asset_check_evaluations()
        if not check.passed and check.severity.value == "ERROR"
    ]
    assert failed == []
    # materialize() runs up to FROZEN_NOW's real "now": compare the range the simulator holds
    start = FROZEN_NOW.replace(hour=0) - timedelta(days=2)
    assert_warehouse_equals_truth(tmp_path / "data" / "warehouse.duckdb", sim, start, FROZEN_NOW)
    assert_lake_is_complete(sim, endpoint, bucket)
