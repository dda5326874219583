"""Daily UTC partitions from CALL_LOGS_START_DATE, the current (incomplete) day included."""

from __future__ import annotations

import dagster as dg

from pipeline.config import Settings

SETTINGS_AT_LOAD = Settings.from_env()

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=SETTINGS_AT_LOAD.start_date.isoformat(),
    timezone="UTC",
    end_offset=1,  # today is a partition too, re-synced while it fills
)
