"""The audit's comparison as a pure function: which days it finds, and what it costs in requests."""

from __future__ import annotations

import math
from datetime import date, timedelta

from pipeline.audit import Difference, audit_assistant, month_windows, repair_runs

A, B = "550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440001"
SINCE, UNTIL = date(2025, 12, 1), date(2026, 12, 1)


def test_months_tile_the_range_and_cut_at_the_first_of_each_month() -> None:
    windows = month_windows(date(2025, 12, 15), date(2026, 3, 2))
    assert windows == [
        (date(2025, 12, 15), date(2026, 1, 1)),
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 2)),
    ]


def test_differing_days_are_found_in_months_plus_log_days_requests() -> None:
    days = [SINCE + timedelta(days=n) for n in range((UNTIL - SINCE).days)]
    stored = {day: 20 for day in days}
    api = dict(stored)
    late = [date(2026, 2, 10), date(2026, 2, 11), date(2026, 9, 30)]
    for day in late:
        api[day] += 1
    asked: list[tuple[date, date]] = []

    def total(_: str, first: date, last: date) -> int:
        asked.append((first, last))
        return sum(n for day, n in api.items() if first <= day < last)

    result = audit_assistant(A, month_windows(SINCE, UNTIL), stored, total)
    assert [d.day for d in result.differences] == late
    assert result.windows == 12 and result.api_total == result.stored + 3
    narrowing = len(asked) - 12
    assert narrowing <= len(late) * 2 * math.ceil(math.log2(31)), narrowing


def test_matching_history_costs_one_request_per_month() -> None:
    stored = {SINCE + timedelta(days=n): 5 for n in range(365)}
    calls = []

    def total(_: str, first: date, last: date) -> int:
        calls.append(first)
        return sum(n for day, n in stored.items() if first <= day < last)

    result = audit_assistant(A, month_windows(SINCE, UNTIL), stored, total)
    assert result.differences == [] and len(calls) == 12


def test_repairs_are_one_run_per_contiguous_range_each_assistant_reading_its_own_days() -> None:
    found = [
        Difference(A, date(2026, 2, 10), 21, 20),
        Difference(B, date(2026, 2, 11), 21, 20),
        Difference(A, date(2026, 9, 30), 3, 2),
    ]
    runs = repair_runs(found, {})
    assert [(r.start, r.end, dict(r.assistants)) for r in runs] == [
        (
            date(2026, 2, 10),
            date(2026, 2, 12),
            {
                A: ((date(2026, 2, 10), date(2026, 2, 11)),),
                B: ((date(2026, 2, 11), date(2026, 2, 12)),),
            },
        ),
        (date(2026, 9, 30), date(2026, 10, 1), {A: ((date(2026, 9, 30), date(2026, 10, 1)),)}),
    ]
