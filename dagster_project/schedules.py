"""The incremental schedule: hourly, each assistant planned from its own state."""

from collections.abc import Iterator
from datetime import UTC, date, timedelta

import dagster as dg

from dagster_project.jobs import SYNC_JOB_NAME
from dagster_project.resources import CallLogsResource
from dagster_project.run_plan import assistants_in, run_config_for
from pipeline.assistants import current_roster
from pipeline.incremental import RunPlan, plan_from_warehouse

ASSISTANTS_TAG = "calllogs/assistants"


def range_tags(start: date, end: date) -> dict[str, str]:
    """Tags that make one run cover the partitions ``[start, end)``."""
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": (end - timedelta(days=1)).isoformat(),
    }


def run_tags(run: RunPlan) -> dict[str, str]:
    """The range tags plus what a person scanning the run list wants: who and why."""
    ids = sorted(run.assistants)
    who = ", ".join(ids) if len(ids) <= 3 else f"{len(ids)} assistants"
    return {
        **range_tags(run.start, run.end),
        ASSISTANTS_TAG: who,
        "calllogs/plan": run.reason[:200],
    }


UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _assistants_being_synced(instance: dg.DagsterInstance) -> set[str]:
    """Assistants of this job's unfinished runs: a long history run may outlast a tick."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=SYNC_JOB_NAME, statuses=UNFINISHED))
    busy: set[str] = set()
    for run in runs:
        busy |= assistants_in(run.run_config)
    return busy


def incremental_sync(
    context: dg.ScheduleEvaluationContext, calllogs: CallLogsResource
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    settings = calllogs.settings()
    scheduled = context.scheduled_execution_time
    now = scheduled.astimezone(UTC) if scheduled is not None else None
    roster = current_roster(settings)
    plan = plan_from_warehouse(settings, calllogs.warehouse(), roster, now=now)
    busy = _assistants_being_synced(context.instance)
    plan = plan.without(busy)
    if not plan.runs:
        yield dg.SkipReason("nothing to sync")
        return
    stamp = now.isoformat() if now is not None else "manual"
    for number, run in enumerate(plan.runs):
        yield dg.RunRequest(
            run_key=f"incremental:{stamp}:{number}:{run.start}:{run.end}",
            run_config=run_config_for(run),
            tags=run_tags(run),
        )


def build_schedule(cron: str, job: "dg.UnresolvedAssetJobDefinition") -> dg.ScheduleDefinition:
    """The incremental schedule on ``cron`` (CALL_LOGS_SCHEDULE_CRON, UTC), running by default."""
    return dg.schedule(
        name="incremental_sync",
        cron_schedule=cron,
        job=job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "Incremental sync, per assistant: from each assistant's own synced point minus "
            "CALL_LOGS_LOOKBACK_HOURS up to now, plus its days with calls in progress and the days "
            "it failed on; a new assistant gets its whole history in a run of its own."
        ),
    )(incremental_sync)
