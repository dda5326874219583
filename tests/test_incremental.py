"""Planning per assistant: each from its own state; recent ones share runs, catch-ups their own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pipeline.assistants import CONFIGURED, DISCOVERED, REQUESTED, Roster
from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.incremental import AssistantState, plan_requested, plan_sync

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
TODAY = NOW.date()
A, B, C = (f"550e8400-e29b-41d4-a716-44665544000{n}" for n in range(3))


def settings(**env: str) -> Settings:
    return Settings.from_env({"CALL_LOGS_START_DATE": "2026-01-01", **env})


def roster(*ids: str, source: str = CONFIGURED) -> Roster:
    return Roster(ids=ids, source=source)


def synced(
    hours_ago: float,
    *,
    open_days: frozenset[date] = frozenset(),
    failed_days: frozenset[date] = frozenset(),
) -> AssistantState:
    return AssistantState(
        synced_until=NOW - timedelta(hours=hours_ago), open_days=open_days, failed_days=failed_days
    )


def days(first: date, last: date) -> tuple[date, ...]:
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def test_first_sync_reads_everything_from_the_start_date() -> None:
    plan = plan_sync(settings(), roster(A), {}, now=NOW)
    assert plan.assistants[0].days == days(date(2026, 1, 1), TODAY)
    assert [(r.start, r.end) for r in plan.runs] == [(date(2026, 1, 1), TODAY + timedelta(1))]


def test_each_assistant_starts_from_its_own_synced_point() -> None:
    plan = plan_sync(settings(), roster(A, B), {A: synced(1), B: synced(30)}, now=NOW)
    by_id = {p.assistant_id: p.days for p in plan.assistants}
    assert by_id[A] == days(date(2026, 11, 18), TODAY)  # 11-20 11:30 - 48 h
    assert by_id[B] == days(date(2026, 11, 17), TODAY)  # 11-19 06:30 - 48 h
    # Both are recent: one run, each reading its own days.
    assert len(plan.runs) == 1
    run = plan.runs[0]
    assert (run.start, run.end) == (date(2026, 11, 17), TODAY + timedelta(1))
    assert run.days_of(A) == list(by_id[A])
    assert run.days_of(B) == list(by_id[B])


def test_a_new_assistant_gets_its_whole_history_in_a_run_of_its_own() -> None:
    plan = plan_sync(settings(), roster(A, B, C), {A: synced(1), B: synced(1)}, now=NOW)
    assert len(plan.runs) == 2
    recent, history = plan.runs
    assert set(recent.assistants) == {A, B}
    assert recent.days == 3
    assert set(history.assistants) == {C}
    assert (history.start, history.end) == (date(2026, 1, 1), TODAY + timedelta(1))


def test_open_and_failed_days_are_added_to_their_own_assistant_only() -> None:
    states = {
        A: synced(1, open_days=frozenset({date(2026, 11, 12), date(2026, 11, 1)})),
        B: synced(1, failed_days=frozenset({date(2026, 11, 15)})),
    }
    plan = plan_sync(settings(CALL_LOGS_NON_FINAL_MAX_AGE_DAYS="10"), roster(A, B), states, now=NOW)
    by_id = {p.assistant_id: p for p in plan.assistants}
    assert by_id[A].days == (date(2026, 11, 12), *days(date(2026, 11, 18), TODAY))  # 11-01 too old
    assert "in progress" in by_id[A].reason
    assert by_id[B].days == (date(2026, 11, 15), *days(date(2026, 11, 18), TODAY))
    assert "failed" in by_id[B].reason
    # Runs per contiguous range of the union; nobody reads a day that is not its own.
    ranges = [(r.start, r.end, sorted(r.assistants)) for r in plan.runs]
    assert ranges == [
        (date(2026, 11, 12), date(2026, 11, 13), [A]),
        (date(2026, 11, 15), date(2026, 11, 16), [B]),
        (date(2026, 11, 18), TODAY + timedelta(1), [A, B]),
    ]


def test_twenty_healthy_assistants_cost_one_run() -> None:
    ids = tuple(f"550e8400-e29b-41d4-a716-4466554400{n:02d}" for n in range(20))
    plan = plan_sync(settings(), roster(*ids), {a: synced(1) for a in ids}, now=NOW)
    assert len(plan.runs) == 1
    assert len(plan.runs[0].assistants) == 20


def test_an_assistant_that_left_is_retired_once_and_not_planned() -> None:
    states = {A: synced(1), B: synced(1), C: AssistantState(synced_until=NOW, removed=True)}
    plan = plan_sync(settings(), roster(A, source=DISCOVERED), states, now=NOW)
    assert [p.assistant_id for p in plan.assistants] == [A]
    assert list(plan.retired) == [B]  # C was reported before
    assert "no longer listed" in plan.retired[B]
    assert plan.runs[0].retire == plan.retired


def test_a_requested_subset_never_retires_the_others() -> None:
    plan = plan_sync(settings(), roster(A, source=REQUESTED), {A: synced(1), B: synced(1)}, now=NOW)
    assert plan.retired == {}
    assert [set(r.assistants) for r in plan.runs] == [{A}]


def test_no_assistants_at_all_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="lists no assistants"):
        plan_sync(settings(), roster(source=DISCOVERED), {}, now=NOW)


def test_a_requested_range_stops_at_today_and_refuses_empty_or_future_ranges() -> None:
    plan = plan_requested(date(2026, 11, 10), date(2026, 12, 31), roster(A, B), now=NOW)
    assert [(r.start, r.end) for r in plan.runs] == [(date(2026, 11, 10), TODAY + timedelta(1))]
    assert set(plan.runs[0].assistants) == {A, B}
    with pytest.raises(ConfigError, match="must be after"):
        plan_requested(date(2026, 11, 10), date(2026, 11, 10), roster(A), now=NOW)
    with pytest.raises(ConfigError, match="in the future"):
        plan_requested(date(2026, 11, 22), date(2026, 11, 23), roster(A), now=NOW)


def test_the_plan_reads_per_run_and_per_assistant() -> None:
    plan = plan_sync(settings(), roster(A, B), {A: synced(1)}, now=NOW)
    lines = plan.lines()
    assert lines[0].startswith("plan: 2 runs, 2 assistants")
    assert any(line.strip() == f"{A}: 3 days" for line in lines)
    assert any("never synced" in line for line in lines)


def test_assistants_another_run_is_syncing_are_left_to_it() -> None:
    plan = plan_sync(settings(), roster(A, B, C), {A: synced(1), B: synced(1)}, now=NOW)
    busy = plan.without({C})  # C's history run from the last tick is still going
    assert [set(r.assistants) for r in busy.runs] == [{A, B}]
    assert [p.assistant_id for p in busy.assistants] == [A, B]
    assert plan.without({A, B, C}).runs == ()
