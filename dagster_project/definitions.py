"""The code location: wiring only — logic lives in ``pipeline``."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets import raw_call_logs, warehouse_tables
from dagster_project.jobs import sync_job
from dagster_project.resources import resource_from_env
from dagster_project.schedules import incremental_sync

defs = dg.Definitions(
    assets=[raw_call_logs, warehouse_tables],
    jobs=[sync_job],
    schedules=[incremental_sync],
    resources={"calllogs": resource_from_env()},
)
