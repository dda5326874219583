"""The one job: every asset of the pipeline for a day or a range of days."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets import GROUP
from dagster_project.partitions import daily_partitions

SYNC_JOB_NAME = "call_logs_sync"

sync_job = dg.define_asset_job(
    SYNC_JOB_NAME,
    selection=dg.AssetSelection.groups(GROUP),
    partitions_def=daily_partitions,
    description="Extract → lake → warehouse → metrics for the selected days.",
)
