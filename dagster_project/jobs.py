"""The one job: every asset of the pipeline for a day or a range of days."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets import GROUP

SYNC_JOB_NAME = "call_logs_sync"


def build_sync_job(partitions: dg.PartitionsDefinition) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        SYNC_JOB_NAME,
        selection=dg.AssetSelection.groups(GROUP),
        partitions_def=partitions,
        description="Extract → lake → warehouse → metrics for the selected days.",
    )
