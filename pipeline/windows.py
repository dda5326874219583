"""Time windows: UTC days, the API's millisecond bounds, and where to split a window.

The API filters ``started_at`` with *inclusive* bounds at millisecond precision, so a half-open
window ``[start, end)`` is asked for as ``start_date=start`` and ``end_date=end - 1 ms``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta

ONE_MS = timedelta(milliseconds=1)
ONE_DAY = timedelta(days=1)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def floor_ms(moment: datetime) -> datetime:
    """The moment truncated to whole milliseconds (the API's precision), in UTC."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def format_bound(moment: datetime) -> str:
    """``2024-01-20T00:00:00.000Z``: the documented shape, understood by every server version."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def query_bounds(start: datetime, end: datetime) -> tuple[str, str]:
    """``start_date``/``end_date`` asking the inclusive API for exactly ``[start, end)``."""
    return format_bound(start), format_bound(end - ONE_MS)


def days_between(start: date, end: date) -> list[date]:
    """Days ``[start, end)``."""
    return [start + timedelta(days=offset) for offset in range((end - start).days)]


def days_touched(start: datetime, end: datetime) -> list[date]:
    """UTC days that intersect ``[start, end)``."""
    if end <= start:
        return []
    first, last = utc_day(start), utc_day(end - ONE_MS)
    return days_between(first, last + ONE_DAY)


def spans_days(start: datetime, end: datetime) -> bool:
    return len(days_touched(start, end)) > 1


def split_at_day(start: datetime, end: datetime) -> tuple[tuple[datetime, datetime], ...]:
    """Two parts cut at the midnight nearest the middle (requires a window over several days)."""
    days = days_touched(start, end)
    cut = midnight(days[len(days) // 2])
    if cut <= start:
        cut = midnight(days[1])
    return ((start, cut), (cut, end))


def split_into_day_groups(
    start: datetime, end: datetime, parts: int
) -> tuple[tuple[datetime, datetime], ...]:
    """Up to ``parts`` consecutive windows cut only at midnights, each with about as many days."""
    days = days_touched(start, end)
    count = max(1, min(parts, len(days)))
    bounds = [start]
    for index in range(1, count):
        cut = midnight(days[index * len(days) // count])
        if cut > bounds[-1]:
            bounds.append(cut)
    bounds.append(end)
    return tuple((bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1))


def split_in_half(start: datetime, end: datetime) -> tuple[tuple[datetime, datetime], ...] | None:
    """Two parts cut at the millisecond nearest the middle; None for a 1 ms window."""
    if end - start <= ONE_MS:
        return None
    if spans_days(start, end):
        return split_at_day(start, end)
    middle = floor_ms(start + (end - start) / 2)
    if middle <= start:
        middle = start + ONE_MS
    return ((start, middle), (middle, end))


def plan_split(
    start: datetime, end: datetime, observed: Sequence[datetime], page_size: int
) -> tuple[tuple[datetime, datetime], ...] | None:
    """Cut ``[start, end)`` into parts that should each fit in one page, from what was seen.

    Cuts fall only between distinct ``started_at`` values, so a burst of calls sharing one
    millisecond is never cut. Each part targets 80% of a page, leaving room for calls not yet
    seen; a part that still overflows is split again by its own verification. Falls back to
    halving when the observations cannot separate anything; None when nothing can be cut.
    """
    stamps = sorted(floor_ms(moment) for moment in observed if start <= moment < end)
    target = max(1, int(page_size * 0.8))
    cuts: list[datetime] = []
    in_part = 0
    for index, stamp in enumerate(stamps):
        if in_part >= target and stamp != stamps[index - 1] and (not cuts or stamp > cuts[-1]):
            cuts.append(stamp)
            in_part = 0
        in_part += 1
    if not cuts:
        return split_in_half(start, end)
    bounds = [start, *cuts, end]
    return tuple((bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1))


def contiguous_ranges(days: Sequence[date]) -> Iterator[tuple[date, date]]:
    """Group days into maximal ``[first, last + 1)`` runs of consecutive days."""
    ordered = sorted(set(days))
    if not ordered:
        return
    run_start = previous = ordered[0]
    for day in ordered[1:]:
        if day != previous + ONE_DAY:
            yield run_start, previous + ONE_DAY
            run_start = day
        previous = day
    yield run_start, previous + ONE_DAY
