"""The schedules: the hourly incremental sync, each assistant planned from its own state, and the
weekly history audit (stopped by default), which re-syncs the old days whose API total changed."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from dagster_project.jobs import SYNC_JOB_NAME
from dagster_project.resources import CallLogsResource
from dagster_project.run_plan import assistants_in, run_config_for
from pipeline.assistants import current_roster
from pipeline.audit import repair_runs, run_audit
from pipeline.client import make_client
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


AUDIT_CRON = "0 3 * * 0"  # Sundays 03:00 UTC


def history_audit(
    context: dg.ScheduleEvaluationContext, calllogs: CallLogsResource
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    """``calllogs audit`` as a tick: compare by month, narrow to days, request a sync run for them.

    The comparison is ``limit=1`` requests (one per assistant and month, plus a few per differing
    day), so it fits a tick for tens of assistants; the re-syncs are ordinary runs of the sync job.
    """
    settings = calllogs.settings()
    scheduled = context.scheduled_execution_time
    until = (scheduled or datetime.now(UTC)).astimezone(UTC).date()
    roster = current_roster(settings)
    with make_client(settings) as client:
        report = run_audit(
            client,
            calllogs.warehouse(),
            roster.ids,
            settings.start_date,
            until,
            concurrency=settings.concurrency,
        )
    for line in report.lines():
        context.log.info(line)
    runs = repair_runs(report.differences, roster.names)
    if not runs:
        yield dg.SkipReason(
            f"history matches: {len(report.assistants)} assistants, {report.requests} requests"
        )
        return
    stamp = scheduled.isoformat() if scheduled is not None else "manual"
    for number, run in enumerate(runs):
        yield dg.RunRequest(
            run_key=f"audit:{stamp}:{number}:{run.start}:{run.end}",
            run_config=run_config_for(run),
            tags={**run_tags(run), "calllogs/audit": "true"},
        )


def build_audit_schedule(job: "dg.UnresolvedAssetJobDefinition") -> dg.ScheduleDefinition:
    """The weekly history audit, stopped until someone turns it on (``make ui`` never does)."""
    return dg.schedule(
        name="history_audit",
        cron_schedule=AUDIT_CRON,
        job=job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=(
            "Weekly history audit (calllogs audit): per assistant, the API's totals by month "
            "against the warehouse, narrowed to the days that differ (late calls into old days), "
            "which are re-synced as runs of the sync job. Off by default."
        ),
    )(history_audit)
