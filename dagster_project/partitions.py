"""Daily UTC partitions from CALL_LOGS_START_DATE, the current (incomplete) day included."""

from __future__ import annotations

from datetime import date

import dagster as dg


def daily_partitions(start_date: date) -> dg.DailyPartitionsDefinition:
    """One partition per UTC day from ``start_date``; today is one too, re-synced while it fills."""
    return dg.DailyPartitionsDefinition(
        start_date=start_date.isoformat(), timezone="UTC", end_offset=1
    )
