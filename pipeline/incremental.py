"""What a sync reads, per assistant, and how assistants share runs.

Each assistant is planned from its own state: never synced → everything from
``CALL_LOGS_START_DATE``; otherwise from its own synced point minus the lookback up to today, plus
its own days that still hold calls in progress (up to a maximum age) and every day its last
attempt failed on. Assistants whose days all lie in the recent past share one run per contiguous
range (each reads only its own days); an assistant with history to catch up gets a run of its own
range (assistants with the same catch-up plan share it), so a new assistant never drags the others
through its history.

``calllogs sync`` without dates and the hourly Dagster schedule both use ``plan_from_warehouse``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from pipeline.assistants import Roster
from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.sqlfiles import read_sql
from pipeline.warehouse import Warehouse
from pipeline.windows import ONE_DAY, contiguous_ranges, days_between, utc_day
from pipeline.wording import count

DayRange = tuple[date, date]


@dataclass(frozen=True)
class AssistantState:
    """What the warehouse knows of one assistant."""

    synced_until: datetime | None = None
    open_days: frozenset[date] = frozenset()
    failed_days: frozenset[date] = frozenset()
    unreadable_days: frozenset[date] = frozenset()  # hold calls the API never served
    removed: bool = False


@dataclass(frozen=True)
class AssistantPlan:
    assistant_id: str
    days: tuple[date, ...]
    reason: str


@dataclass(frozen=True)
class RunPlan:
    """One Dagster run: partitions ``[start, end)``; each assistant reads only its own ranges."""

    start: date
    end: date
    assistants: Mapping[str, tuple[DayRange, ...]]
    reason: str
    retire: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def days_of(self, assistant_id: str) -> list[date]:
        return [d for s, e in self.assistants[assistant_id] for d in days_between(s, e)]

    def describe(self) -> str:
        who = (
            count(len(self.assistants), "assistant")
            if len(self.assistants) != 1
            else f"assistant {next(iter(self.assistants))}"
        )
        return f"{self.start} .. {self.end} ({count(self.days, 'day')}), {who}: {self.reason}"


@dataclass(frozen=True)
class SyncPlan:
    assistants: tuple[AssistantPlan, ...]
    runs: tuple[RunPlan, ...]
    retired: Mapping[str, str] = field(default_factory=dict)

    def without(self, busy: Iterable[str]) -> SyncPlan:
        """The plan less the assistants another run is still syncing (they are planned again
        once it ends; two runs must never write one assistant's partitions at once)."""
        skip = set(busy)
        runs = []
        for run in self.runs:
            kept = {a: r for a, r in run.assistants.items() if a not in skip}
            if kept or run.retire:
                runs.append(replace(run, assistants=kept))
        plans = tuple(p for p in self.assistants if p.assistant_id not in skip)
        return SyncPlan(assistants=plans, runs=tuple(runs), retired=self.retired)

    @property
    def requests_days(self) -> int:
        """(assistant, day) windows the plan reads."""
        return sum(len(p.days) for p in self.assistants)

    def lines(self) -> list[str]:
        """The plan as a person reads it: runs, then each assistant's own days."""
        out = [
            f"plan: {count(len(self.runs), 'run')}, {count(len(self.assistants), 'assistant')}, "
            f"{count(self.requests_days, 'assistant-day')}"
        ]
        for number, run in enumerate(self.runs, 1):
            out.append(f"  run {number}: {run.describe()}")
            for assistant in sorted(run.assistants):
                days = count(len(run.days_of(assistant)), "day")
                out.append(f"    {assistant}: {days}{_ranges(run.assistants[assistant])}")
        for assistant, reason in sorted(self.retired.items()):
            out.append(f"  not synced any more: {assistant}: {reason}")
        return out


def _ranges(ranges: Sequence[DayRange]) -> str:
    if len(ranges) == 1:
        return ""
    return " (" + ", ".join(f"{s}..{e - ONE_DAY}" for s, e in ranges) + ")"


def plan_assistant(
    settings: Settings, assistant_id: str, state: AssistantState, *, today: date
) -> AssistantPlan:
    """One assistant's days, from its own state only."""
    if state.synced_until is None:
        start = settings.start_date
        reason = f"never synced: everything from {start}"
    else:
        start = max(
            settings.start_date,
            utc_day(state.synced_until - timedelta(hours=settings.lookback_hours)),
        )
        reason = (
            f"synced up to {state.synced_until.isoformat()}; {settings.lookback_hours}h lookback"
        )
    days = set(days_between(start, today + ONE_DAY))
    oldest_open = today - timedelta(days=settings.non_final_max_age_days)
    open_days = {d for d in state.open_days if oldest_open <= d < start}
    if open_days:
        reason += f" + {count(len(open_days), 'older day')} with calls in progress"
    failed = {d for d in state.failed_days if settings.start_date <= d < start}
    if failed:
        reason += f" + {count(len(failed), 'day')} that failed last time"
    unreadable = {d for d in state.unreadable_days if settings.start_date <= d < start} - failed
    if unreadable:
        reason += f" + {count(len(unreadable), 'day')} with calls the API could not serve"
    planned = days | open_days | failed | unreadable
    return AssistantPlan(assistant_id, tuple(sorted(planned)), reason)


def group_runs(settings: Settings, plans: Sequence[AssistantPlan], *, today: date) -> list[RunPlan]:
    """Recent plans share a run per contiguous range; catch-up plans get runs of their own."""
    horizon = today - timedelta(
        days=max(settings.non_final_max_age_days, -(-settings.lookback_hours // 24) + 1)
    )
    recent = [p for p in plans if p.days and p.days[0] >= horizon]
    catch_up: dict[tuple[date, ...], list[str]] = {}
    for plan in plans:
        if plan.days and plan.days[0] < horizon:
            catch_up.setdefault(plan.days, []).append(plan.assistant_id)
    runs: list[RunPlan] = []
    recent_reason = (
        f"each assistant's own {settings.lookback_hours}h lookback, days in progress and "
        "failed days"
    )
    union = sorted({day for plan in recent for day in plan.days})
    for start, end in contiguous_ranges(union):
        members = {
            p.assistant_id: tuple(_ranges_within(p.days, start, end))
            for p in recent
            if any(start <= d < end for d in p.days)
        }
        reasons = {p.reason for p in recent if p.assistant_id in members}
        reason = reasons.pop() if len(reasons) == 1 else recent_reason
        runs.append(RunPlan(start, end, members, reason))
    for days, group in catch_up.items():
        reason = next(p.reason for p in plans if p.assistant_id == group[0])
        for start, end in contiguous_ranges(list(days)):
            runs.append(RunPlan(start, end, {a: ((start, end),) for a in group}, reason))
    return runs


def _ranges_within(days: Iterable[date], start: date, end: date) -> list[DayRange]:
    return list(contiguous_ranges(sorted(d for d in days if start <= d < end)))


def plan_sync(
    settings: Settings,
    roster: Roster,
    states: Mapping[str, AssistantState],
    *,
    now: datetime | None = None,
) -> SyncPlan:
    """Plan every assistant of ``roster`` from its own state; retire the ones that left."""
    today = utc_day(now or datetime.now(UTC))
    plans = tuple(
        plan_assistant(settings, a, states.get(a, AssistantState()), today=today)
        for a in roster.ids
    )
    retired: dict[str, str] = {}
    if roster.complete:
        current = set(roster.ids)
        retired = {
            a: roster.retire_reason()
            for a, state in states.items()
            if a not in current and not state.removed
        }
    if not plans and not states:
        raise ConfigError(
            "the API lists no assistants for this key; set CALL_LOGS_ASSISTANT_IDS or check the key"
        )
    runs = group_runs(settings, plans, today=today)
    if retired and not runs:
        runs = [RunPlan(today, today + ONE_DAY, {}, "record removed assistants")]
    if runs:
        runs[0] = replace(runs[0], retire=retired)
    named = [_with_names(run, roster.names) for run in runs]
    return SyncPlan(assistants=plans, runs=tuple(named), retired=retired)


def _with_names(run: RunPlan, names: Mapping[str, str]) -> RunPlan:
    return replace(run, names={a: names[a] for a in run.assistants if names.get(a)})


def plan_requested(
    start: date, end: date, roster: Roster, *, now: datetime | None = None
) -> SyncPlan:
    """Days ``[start, end)`` of every assistant asked for, without days that have not begun."""
    if end <= start:
        raise ConfigError(f"--end {end} must be after --start {start}")
    tomorrow = utc_day(now or datetime.now(UTC)) + ONE_DAY
    if start >= tomorrow:
        raise ConfigError(f"--start {start} is in the future; nothing to sync yet")
    stop = min(end, tomorrow)
    days = tuple(days_between(start, stop))
    reason = f"requested {start}..{end}"
    plans = tuple(AssistantPlan(a, days, reason) for a in roster.ids)
    run = RunPlan(start, stop, {a: ((start, stop),) for a in roster.ids}, reason)
    return SyncPlan(assistants=plans, runs=(_with_names(run, roster.names),))


def read_states(
    settings: Settings, warehouse: Warehouse, *, now: datetime
) -> dict[str, AssistantState]:
    """Every assistant the warehouse knows, with its synced point, open and failed days."""
    if not settings.warehouse_path.exists():
        return {}
    warehouse.ensure_schema()
    since = utc_day(now) - timedelta(days=settings.non_final_max_age_days)
    with warehouse.reading():  # five queries on one connection
        return _states(warehouse, since=since)


def _states(warehouse: Warehouse, *, since: date) -> dict[str, AssistantState]:
    synced = {
        row["assistant_id"]: row["synced_until"]
        for row in warehouse.query(read_sql("state/last_synced_per_assistant.sql")).to_pylist()
    }
    open_days: dict[str, set[date]] = {}
    for row in warehouse.query(
        read_sql("state/days_with_non_final_calls.sql"), {"since": since}
    ).to_pylist():
        open_days.setdefault(row["assistant_id"], set()).add(row["call_date"])
    failed: dict[str, set[date]] = {}
    for row in warehouse.query(read_sql("state/failed_days.sql")).to_pylist():
        failed.setdefault(row["assistant_id"], set()).add(row["call_date"])
    unreadable: dict[str, set[date]] = {}
    for row in warehouse.query(read_sql("state/unreadable_days.sql")).to_pylist():
        unreadable.setdefault(row["assistant_id"], set()).add(row["call_date"])
    removed = {
        row["assistant_id"]: bool(row["removed"])
        for row in warehouse.query(read_sql("state/known_assistants.sql")).to_pylist()
    }
    known = set(synced) | set(open_days) | set(failed) | set(unreadable) | set(removed)
    return {
        a: AssistantState(
            synced_until=synced.get(a),
            open_days=frozenset(open_days.get(a, ())),
            failed_days=frozenset(failed.get(a, ())),
            unreadable_days=frozenset(unreadable.get(a, ())),
            removed=removed.get(a, False),
        )
        for a in known
    }


def plan_from_warehouse(
    settings: Settings,
    warehouse: Warehouse,
    roster: Roster,
    *,
    now: datetime | None = None,
) -> SyncPlan:
    current = now or datetime.now(UTC)
    return plan_sync(settings, roster, read_states(settings, warehouse, now=current), now=current)
