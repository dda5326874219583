"""The incremental schedule: hourly, re-sync today, the lookback, and days with open calls."""

import os
from collections.abc import Iterator
from datetime import UTC, date, timedelta

import dagster as dg

from dagster_project.jobs import sync_job
from dagster_project.resources import CallLogsResource
from pipeline.incremental import plan_from_warehouse

CRON = os.environ.get("CALL_LOGS_SCHEDULE_CRON", "").strip() or "0 * * * *"


def range_tags(start: date, end: date) -> dict[str, str]:
    """Tags that make one run cover the partitions ``[start, end)``."""
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": (end - timedelta(days=1)).isoformat(),
    }


@dg.schedule(
    cron_schedule=CRON,
    job=sync_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Incremental sync: from the last synced point minus CALL_LOGS_LOOKBACK_HOURS up to now, "
        "plus every day that still holds a call in progress (up to a maximum age)."
    ),
)
def incremental_sync(
    context: dg.ScheduleEvaluationContext, calllogs: CallLogsResource
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    settings = calllogs.settings()
    scheduled = context.scheduled_execution_time
    now = scheduled.astimezone(UTC) if scheduled is not None else None
    plan = plan_from_warehouse(settings, calllogs.warehouse(), now=now)
    if not plan.ranges:
        yield dg.SkipReason("nothing to sync")
        return
    stamp = now.isoformat() if now is not None else "manual"
    for start, end in plan.ranges:
        yield dg.RunRequest(
            run_key=f"incremental:{stamp}:{start}:{end}",
            tags={**range_tags(start, end), "calllogs/plan": plan.reason[:200]},
        )
