"""Which days an incremental sync must re-read: the lookback, unfinished days, and nothing else.

``calllogs sync`` without dates and the hourly Dagster schedule both use ``plan_incremental``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.sqlfiles import read_sql
from pipeline.warehouse import Warehouse
from pipeline.windows import ONE_DAY, contiguous_ranges, utc_day


@dataclass(frozen=True)
class IncrementalPlan:
    """Day ranges ``[start, end)`` to sync, and why."""

    ranges: tuple[tuple[date, date], ...]
    reason: str

    @property
    def days(self) -> list[date]:
        out: list[date] = []
        for start, end in self.ranges:
            day = start
            while day < end:
                out.append(day)
                day += ONE_DAY
        return out


def plan_incremental(
    settings: Settings,
    *,
    synced_until: dict[str, datetime],
    non_final_days: Sequence[date],
    assistants: Sequence[str] | None = None,
    now: datetime | None = None,
) -> IncrementalPlan:
    """From the last synced point minus the lookback up to today, plus days with open calls.

    ``synced_until`` maps each assistant to the end of its latest synced window; the slowest
    assistant sets the start, so one that failed last time is caught up. An assistant that is
    configured but never synced (or nothing synced at all) starts from ``start_date``.
    """
    current = now or datetime.now(UTC)
    today = utc_day(current)
    wanted = list(assistants) if assistants else list(synced_until)
    if not synced_until or any(a not in synced_until for a in wanted):
        start = settings.start_date
        reason = f"first sync: everything from {start}"
    else:
        slowest = min(synced_until[a] for a in wanted) if wanted else min(synced_until.values())
        start = max(
            settings.start_date, utc_day(slowest - timedelta(hours=settings.lookback_hours))
        )
        reason = (
            f"synced up to {slowest.isoformat()}; re-reading {settings.lookback_hours}h lookback"
        )
    days = {start + timedelta(days=i) for i in range((today - start).days + 1)}
    oldest_open = today - timedelta(days=settings.non_final_max_age_days)
    open_days = {d for d in non_final_days if oldest_open <= d < start}
    if open_days:
        reason += f" and {len(open_days)} older day(s) with calls still in progress"
    days |= open_days
    return IncrementalPlan(ranges=tuple(contiguous_ranges(sorted(days))), reason=reason)


def plan_requested(start: date, end: date, *, now: datetime | None = None) -> IncrementalPlan:
    """Days ``[start, end)`` asked for explicitly, without days that have not begun yet."""
    if end <= start:
        raise ConfigError(f"--end {end} must be after --start {start}")
    tomorrow = utc_day(now or datetime.now(UTC)) + ONE_DAY
    if start >= tomorrow:
        raise ConfigError(f"--start {start} is in the future; nothing to sync yet")
    return IncrementalPlan(
        ranges=((start, min(end, tomorrow)),), reason=f"requested {start}..{end}"
    )


def plan_from_warehouse(
    settings: Settings,
    warehouse: Warehouse,
    *,
    assistants: Sequence[str] | None = None,
    now: datetime | None = None,
) -> IncrementalPlan:
    current = now or datetime.now(UTC)
    if not settings.warehouse_path.exists():
        return plan_incremental(
            settings, synced_until={}, non_final_days=[], assistants=assistants, now=current
        )
    warehouse.ensure_schema()
    state = warehouse.query(read_sql("state/last_synced_per_assistant.sql")).to_pylist()
    since = utc_day(current) - timedelta(days=settings.non_final_max_age_days)
    open_rows = warehouse.query(
        read_sql("state/days_with_non_final_calls.sql"), {"since": since}
    ).to_pylist()
    return plan_incremental(
        settings,
        synced_until={row["assistant_id"]: row["synced_until"] for row in state},
        non_final_days=[row["call_date"] for row in open_rows],
        assistants=assistants,
        now=current,
    )
