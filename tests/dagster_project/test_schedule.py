"""The incremental schedule: which runs it asks for, and with which per-assistant plan."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.jobs import build_sync_job
from dagster_project.partitions import daily_partitions
from dagster_project.resources import CallLogsResource
from dagster_project.run_plan import ASSET_WITH_PLAN
from dagster_project.schedules import build_schedule

incremental_sync = build_schedule("0 * * * *", build_sync_job(daily_partitions(date(2026, 11, 1))))
NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
A, B = "550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440001"


def two_assistants(data_dir: Path) -> CallLogsResource:
    """A and B configured (no API needed to plan), never synced, history from 2026-11-15."""
    return CallLogsResource.for_environment(
        {
            "CALL_LOGS_API_URL": "http://127.0.0.1:9",
            "CALL_LOGS_API_KEY": "k",
            "CALL_LOGS_DATA_DIR": str(data_dir),
            "CALL_LOGS_START_DATE": "2026-11-15",
            "CALL_LOGS_ASSISTANT_IDS": f"{A},{B}",
        }
    )


def test_schedule_requests_a_run_carrying_each_assistants_days(tmp_path: Path) -> None:
    resource = two_assistants(tmp_path)
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=NOW, resources={"calllogs": resource}
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


def test_a_runs_config_names_its_assistants() -> None:
    from dagster_project.run_plan import assistants_in, run_config_for
    from pipeline.assistants import CONFIGURED, Roster
    from pipeline.config import Settings
    from pipeline.incremental import plan_sync

    plan = plan_sync(
        Settings.from_env({"CALL_LOGS_START_DATE": "2026-11-01"}),
        Roster(ids=(A, B), source=CONFIGURED),
        {},
        now=NOW,
    )
    assert assistants_in(run_config_for(plan.runs[0])) == {A, B}
    assert assistants_in({}) == set()  # a UI run without config covers everyone


def test_a_tick_leaves_assistants_to_a_run_still_syncing_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_project.definitions import defs
    from dagster_project.jobs import SYNC_JOB_NAME

    resource = two_assistants(tmp_path)
    monkeypatch.setenv("CALL_LOGS_API_URL", "http://127.0.0.1:9")  # the job's resource config
    monkeypatch.setenv("CALL_LOGS_API_KEY", "k")
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=NOW, resources={"calllogs": resource}
        )
        (first, *_) = incremental_sync.evaluate_tick(context).run_requests or []
        instance.create_run_for_job(
            defs().resolve_job_def(SYNC_JOB_NAME),
            run_config=first.run_config,
            tags=first.tags,
            status=dg.DagsterRunStatus.STARTED,
        )
        again = incremental_sync.evaluate_tick(context)
    assert not again.run_requests  # both are still being synced by the first run
    assert again.skip_message
