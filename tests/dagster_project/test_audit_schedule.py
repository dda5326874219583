"""The weekly history audit schedule: stopped by default, and a tick asks for exactly the days
whose API total no longer matches the warehouse (a late call into an old day), or skips."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg

from dagster_project.jobs import build_sync_job
from dagster_project.partitions import daily_partitions
from dagster_project.resources import CallLogsResource
from dagster_project.run_plan import ASSET_WITH_PLAN
from dagster_project.schedules import build_audit_schedule
from pipeline.client import make_client
from pipeline.config import Settings
from pipeline.load import load_lake_into_warehouse
from pipeline.sync import extract_to_lake
from simulator import SimulatorConfig, SimulatorServer
from tests.simulator_client import FROZEN_NOW

START = FROZEN_NOW.date() - timedelta(days=8)
history_audit = build_audit_schedule(build_sync_job(daily_partitions(START)))


def test_the_audit_is_weekly_and_off_until_someone_turns_it_on() -> None:
    assert history_audit.default_status == dg.DefaultScheduleStatus.STOPPED
    assert history_audit.cron_schedule == "0 3 * * 0"
    assert history_audit.execution_timezone == "UTC"


def test_a_tick_asks_for_a_sync_of_exactly_the_day_a_late_call_went_into(tmp_path: Path) -> None:
    config = SimulatorConfig(
        seed=12, now=FROZEN_NOW, history_days=8, calls_per_day=15, assistants=2
    )
    with SimulatorServer(config) as sim:
        env = {
            "CALL_LOGS_API_URL": sim.url,
            "CALL_LOGS_API_KEY": sim.api_key,
            "CALL_LOGS_DATA_DIR": str(tmp_path),
            "CALL_LOGS_START_DATE": START.isoformat(),
            "CALL_LOGS_ASSISTANT_IDS": ",".join(sim.assistant_ids),
        }
        settings = Settings.from_env(env)
        end = FROZEN_NOW.date() + timedelta(days=1)
        with make_client(settings) as client:
            extract_to_lake(
                settings, START, end, client=client, lake=settings.lake(), now=FROZEN_NOW
            )
        load_lake_into_warehouse(settings.lake(), settings.warehouse(), START, end)
        resource = CallLogsResource.for_environment(env)

        def tick() -> dg.ScheduleExecutionData:
            with dg.instance_for_test() as instance:
                context = dg.build_schedule_context(
                    instance=instance,
                    scheduled_execution_time=FROZEN_NOW,
                    resources={"calllogs": resource},
                )
                return history_audit.evaluate_tick(context)

        assert tick().skip_message is not None and not tick().run_requests
        late_for = sim.assistant_ids[1]
        sim.insert_late(late_for, days_ago=6)
        requests = list(tick().run_requests or [])
    late_day = FROZEN_NOW.date() - timedelta(days=6)
    assert len(requests) == 1
    assert requests[0].tags["dagster/asset_partition_range_start"] == late_day.isoformat()
    assert requests[0].tags["dagster/asset_partition_range_end"] == late_day.isoformat()
    config_of_run = requests[0].run_config["ops"][ASSET_WITH_PLAN]["config"]
    assert [(a["assistant_id"], a["days"]) for a in config_of_run["assistants"]] == [
        (late_for, [f"{late_day}/{late_day + timedelta(days=1)}"])
    ]
