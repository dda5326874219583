"""Window arithmetic: inclusive API bounds, day splits, split planning around ties."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from pipeline.windows import (
    ONE_MS,
    contiguous_ranges,
    days_touched,
    format_bound,
    plan_split,
    query_bounds,
    split_in_half,
)

T0 = datetime(2026, 11, 20, tzinfo=UTC)


def test_query_bounds_ask_the_inclusive_api_for_a_half_open_window() -> None:
    assert query_bounds(T0, T0 + timedelta(days=1)) == (
        "2026-11-20T00:00:00.000Z",
        "2026-11-20T23:59:59.999Z",
    )


def test_format_bound_converts_offsets_to_utc() -> None:
    from zoneinfo import ZoneInfo

    moment = datetime(2026, 11, 20, 5, 30, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert format_bound(moment) == "2026-11-20T00:00:00.000Z"


def test_days_touched_excludes_the_end_midnight() -> None:
    assert days_touched(T0, T0 + timedelta(days=2)) == [date(2026, 11, 20), date(2026, 11, 21)]
    assert days_touched(T0, T0 + timedelta(hours=1)) == [date(2026, 11, 20)]


def test_split_in_half_prefers_midnights_and_stops_at_one_ms() -> None:
    parts = split_in_half(T0, T0 + timedelta(days=4))
    assert parts == ((T0, T0 + timedelta(days=2)), (T0 + timedelta(days=2), T0 + timedelta(days=4)))
    assert split_in_half(T0, T0 + ONE_MS) is None


def test_plan_split_never_cuts_a_tie_and_covers_the_window() -> None:
    end = T0 + timedelta(hours=1)
    tie = T0 + timedelta(minutes=30)
    observed = [T0 + timedelta(seconds=i) for i in range(70)] + [tie] * 40
    parts = plan_split(T0, end, observed, page_size=100)
    assert parts is not None
    assert parts[0][0] == T0 and parts[-1][1] == end
    for (_, a_end), (b_start, _) in itertools.pairwise(parts):
        assert a_end == b_start
    # The burst lies wholly inside one part.
    holders = [p for p in parts if p[0] <= tie < p[1]]
    assert len(holders) == 1


def test_contiguous_ranges_groups_consecutive_days() -> None:
    days = [date(2026, 1, d) for d in (1, 2, 3, 7, 9, 10)]
    assert list(contiguous_ranges(days)) == [
        (date(2026, 1, 1), date(2026, 1, 4)),
        (date(2026, 1, 7), date(2026, 1, 8)),
        (date(2026, 1, 9), date(2026, 1, 11)),
    ]


def test_split_into_day_groups_cuts_only_at_midnights_and_covers_the_range() -> None:
    from pipeline.windows import split_into_day_groups

    start, end = T0 + timedelta(hours=5), T0 + timedelta(days=10, hours=3)
    parts = split_into_day_groups(start, end, 4)
    assert len(parts) == 4
    assert parts[0][0] == start and parts[-1][1] == end
    for (_, a_end), (b_start, _) in itertools.pairwise(parts):
        assert a_end == b_start and a_end.hour == 0 and a_end.minute == 0
    assert split_into_day_groups(T0, T0 + timedelta(hours=2), 5) == ((T0, T0 + timedelta(hours=2)),)
