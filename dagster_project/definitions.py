"""The code location: wiring only — logic lives in ``pipeline``.

Nothing is read at import: the settings are built when Dagster loads the definitions (``defs``),
so a bad ``CALL_LOGS_*`` value is one :class:`~pipeline.errors.ConfigError` naming it, and the
partitions start at ``CALL_LOGS_START_DATE`` as it is then.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.assets import build_assets, freshness_checks
from dagster_project.jobs import build_sync_job
from dagster_project.partitions import daily_partitions
from dagster_project.resources import CallLogsResource
from dagster_project.schedules import build_audit_schedule, build_schedule
from pipeline.config import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions = daily_partitions(settings.start_date)
    job = build_sync_job(partitions)
    freshness = freshness_checks()
    return dg.Definitions(
        assets=build_assets(partitions),
        asset_checks=freshness,
        jobs=[job],
        schedules=[build_schedule(settings.schedule_cron, job), build_audit_schedule(job)],
        sensors=[dg.build_sensor_for_freshness_checks(freshness_checks=freshness)],
        resources={"calllogs": CallLogsResource.from_settings(settings, secrets_from_env=True)},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
