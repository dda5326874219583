"""The incremental schedule: which runs it asks for, and with which per-assistant plan."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from dagster_project.resources import CallLogsResource
from dagster_project.run_plan import ASSET_WITH_PLAN
from dagster_project.schedules import incremental_sync

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
A, B = "550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440001"


def test_schedule_requests_a_run_carrying_each_assistants_days(tmp_path: Path) -> None:
    resource = CallLogsResource(
        api_url="http://127.0.0.1:9",
        api_key="k",
        data_dir=str(tmp_path),
        start_date="2026-11-15",
        assistant_ids=f"{A},{B}",
    )
    context = dg.build_schedule_context(
        scheduled_execution_time=NOW, resources={"calllogs": resource}
    )
    requests = list(incremental_sync.evaluate_tick(context).run_requests or [])
    assert len(requests) == 1  # both never synced: one history run for the two of them
    tags = requests[0].tags
    assert tags["dagster/asset_partition_range_start"] == "2026-11-15"
    assert tags["dagster/asset_partition_range_end"] == "2026-11-20"
    config = requests[0].run_config["ops"][ASSET_WITH_PLAN]["config"]
    assert {item["assistant_id"]: item["days"] for item in config["assistants"]} == {
        A: ["2026-11-15/2026-11-21"],
        B: ["2026-11-15/2026-11-21"],
    }
