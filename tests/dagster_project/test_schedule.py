"""The incremental schedule and plan: which partitions it asks for at chosen times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from dagster_project.resources import CallLogsResource
from dagster_project.schedules import incremental_sync
from pipeline.config import Settings
from pipeline.incremental import plan_incremental

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
A, B = "550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440001"


def settings(**env: str) -> Settings:
    return Settings.from_env({"CALL_LOGS_START_DATE": "2026-01-01", **env})


def test_first_sync_reads_everything_from_the_start_date() -> None:
    plan = plan_incremental(settings(), synced_until={}, non_final_days=[], now=NOW)
    assert plan.ranges == ((date(2026, 1, 1), date(2026, 11, 21)),)


def test_lookback_from_the_slowest_assistant_up_to_today() -> None:
    plan = plan_incremental(
        settings(),
        synced_until={A: NOW - timedelta(hours=1), B: NOW - timedelta(hours=30)},
        non_final_days=[],
        now=NOW,
    )
    # B is synced up to 2026-11-19 06:30; minus 48 h → 2026-11-17.
    assert plan.ranges == ((date(2026, 11, 17), date(2026, 11, 21)),)


def test_days_with_open_calls_are_added_up_to_the_maximum_age() -> None:
    plan = plan_incremental(
        settings(CALL_LOGS_NON_FINAL_MAX_AGE_DAYS="10"),
        synced_until={A: NOW},
        non_final_days=[date(2026, 11, 1), date(2026, 11, 12), date(2026, 11, 19)],
        now=NOW,
    )
    assert plan.ranges == (
        (date(2026, 11, 12), date(2026, 11, 13)),
        (date(2026, 11, 18), date(2026, 11, 21)),
    )
    assert "in progress" in plan.reason


def test_schedule_requests_range_runs(tmp_path: Path) -> None:
    resource = CallLogsResource(
        api_url="http://127.0.0.1:9", api_key="k", data_dir=str(tmp_path), start_date="2026-11-15"
    )
    context = dg.build_schedule_context(
        scheduled_execution_time=NOW, resources={"calllogs": resource}
    )
    requests = list(incremental_sync.evaluate_tick(context).run_requests or [])
    assert len(requests) == 1
    tags = requests[0].tags
    assert tags["dagster/asset_partition_range_start"] == "2026-11-15"
    assert tags["dagster/asset_partition_range_end"] == "2026-11-20"


def test_a_requested_range_stops_at_today_and_refuses_empty_or_future_ranges() -> None:
    import pytest

    from pipeline.errors import ConfigError
    from pipeline.incremental import plan_requested

    plan = plan_requested(date(2026, 11, 10), date(2026, 12, 31), now=NOW)
    assert plan.ranges == ((date(2026, 11, 10), date(2026, 11, 21)),)
    with pytest.raises(ConfigError, match="must be after"):
        plan_requested(date(2026, 11, 10), date(2026, 11, 10), now=NOW)
    with pytest.raises(ConfigError, match="in the future"):
        plan_requested(date(2026, 11, 22), date(2026, 11, 23), now=NOW)
