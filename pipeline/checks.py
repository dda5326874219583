"""Data-quality checks over the warehouse, as plain functions (Dagster turns them into checks).

Each returns a ``CheckOutcome``: passed or not, how serious, and the first failing rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa

from pipeline.outcome import FAILED, SYNCED, AssistantOutcome, with_status
from pipeline.sqlfiles import read_sql
from pipeline.warehouse import Warehouse
from pipeline.wording import count


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    description: str
    warn_only: bool = False
    failing: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Check:
    """One check, declared: where it shows, how serious it is, what it guards.

    ``sql`` (a file of ``sql/checks/``) returns the failing rows among the run's partitions (the
    table ``checked_partitions``), so a check costs what the run loaded, not the whole history;
    checks without ``sql`` are computed from the run's own outcome. ``ok``/``bad`` are the
    result's one-line description (``bad`` with ``{n}``, the number of failing rows).
    """

    name: str
    asset: str
    description: str
    warn_only: bool = False
    sql: str | None = None
    ok: str = ""
    bad: str = ""


REGISTRY: tuple[Check, ...] = (
    Check(
        "assistants_synced",
        "raw_call_logs",
        "Every assistant of the run synced all of its days (a removed one is not a failure).",
    ),
    Check(
        "schema_drift",
        "raw_call_logs",
        "The API sent no field beyond the known ones; new ones are kept in `extra`.",
        warn_only=True,
    ),
    Check(
        "reconciliation",
        "call_logs",
        "Every (assistant, day) the run was asked for is synced and holds exactly the API's "
        "verified total (calls + quarantined rows).",
    ),
    Check(
        "calls_readable",
        "call_logs",
        "The API serves every call it counts in the run's partitions: none answers a "
        "deterministic 500 (those are recorded in unreadable_windows and retried by every sync).",
    ),
    Check(
        "known_call_status",
        "call_logs",
        "Every call_status of the run's partitions is a documented one.",
        warn_only=True,
        sql="checks/unknown_call_status.sql",
        ok="every status is a documented one",
        bad="undocumented status values: {n}; extend the metrics if the platform added one",
    ),
    Check(
        "ended_after_started",
        "call_logs",
        "No call of the run's partitions ends before it starts.",
        sql="checks/ended_before_started.sql",
        ok="no call ends before it starts",
        bad="calls ending before they start: {n}",
    ),
    Check(
        "stale_non_final",
        "call_logs",
        "No call of the run's partitions has been initiated/answered for over 6 hours (the "
        "platform may have lost it).",
        warn_only=True,
        sql="checks/stale_non_final.sql",
        ok="no call has been in progress for more than {older_than}",
        bad="calls still initiated/answered after {older_than}: {n}",
    ),
)


def checks_of(asset: str) -> list[Check]:
    return [check for check in REGISTRY if check.asset == asset]


def run_sql_check(
    warehouse: Warehouse,
    check: Check,
    partitions: pa.Table,
    params: dict[str, object] | None = None,
    words: dict[str, str] | None = None,
) -> CheckOutcome:
    """Run one SQL check over ``partitions`` (see :func:`checked_partitions`); ``params`` go to
    the SQL, ``words`` into its one-line description."""
    if check.sql is None:
        raise ValueError(f"check {check.name} has no SQL; it is computed from the run")
    rows: list[dict[str, Any]] = warehouse.query(
        read_sql(check.sql), params, tables={"checked_partitions": partitions}
    ).to_pylist()
    text = (
        check.bad.format(n=len(rows), **(words or {})) if rows else check.ok.format(**(words or {}))
    )
    return CheckOutcome(
        name=check.name,
        passed=not rows,
        description=text,
        warn_only=check.warn_only,
        failing=len(rows),
        sample=rows[:5],
    )


def sql_checks(
    warehouse: Warehouse,
    partitions: pa.Table,
    *,
    stale_after: timedelta,
    now: datetime | None = None,
) -> list[CheckOutcome]:
    """Every check of the registry that has SQL, over the run's partitions."""
    cutoff = (now or datetime.now(UTC)) - stale_after
    arguments: dict[str, tuple[dict[str, object], dict[str, str]]] = {
        "stale_non_final": ({"older_than": cutoff}, {"older_than": str(stale_after)}),
    }
    return [
        run_sql_check(warehouse, check, partitions, *arguments.get(check.name, ({}, {})))
        for check in REGISTRY
        if check.sql is not None
    ]


PARTITIONS_SCHEMA = pa.schema([("call_date", pa.date32()), ("assistant_id", pa.string())])


def checked_partitions(
    warehouse: Warehouse,
    start_day: date,
    end_day: date,
    expected: Iterable[tuple[date, str]] | None = None,
) -> pa.Table:
    """The (call_date, assistant_id) pairs a run's checks look at.

    ``expected`` is what the run was asked for (each assistant with each of its days), so an
    assistant that never synced a day fails the reconciliation instead of going unnoticed;
    without it, the partitions synced in ``[start_day, end_day)``.
    """
    if expected is None:
        params: dict[str, object] = {"start_day": start_day, "end_day": end_day}
        pairs = warehouse.query(read_sql("checks/synced_partitions.sql"), params)
    else:
        unique = sorted(set(expected))
        days, ids = zip(*unique, strict=True) if unique else ((), ())
        pairs = pa.table({"call_date": list(days), "assistant_id": list(ids)})
    return pairs.cast(PARTITIONS_SCHEMA)


def reconciliation(warehouse: Warehouse, partitions: pa.Table) -> CheckOutcome:
    """Every checked (day, assistant) is synced and holds exactly the API's total."""
    tables = {"checked_partitions": partitions}
    rows = warehouse.query(read_sql("checks/reconciliation.sql"), tables=tables).to_pylist()
    totals = warehouse.query(read_sql("checks/partitions_checked.sql"), tables=tables)
    checked = totals.to_pylist()[0]
    unreadable = int(checked["unreadable_calls"])
    accounted = (
        f" ({count(unreadable, 'call')} of them recorded in unreadable_windows)"
        if unreadable
        else ""
    )
    return CheckOutcome(
        name="reconciliation",
        passed=not rows,
        description=(
            f"{count(checked['partitions'], 'partition')}, {count(checked['api_total'], 'call')}: "
            f"warehouse == API total{accounted}"
            if not rows
            else f"{count(len(rows), 'partition')} not synced exactly (see the sample); rerun "
            "the sync for those days — a plain `calllogs sync` retries failed ones"
        ),
        failing=len(rows),
        sample=rows[:5],
    )


def calls_readable(warehouse: Warehouse, partitions: pa.Table) -> CheckOutcome:
    """No checked partition holds a part the API counts but never serves."""
    tables = {"checked_partitions": partitions}
    rows: list[dict[str, Any]] = warehouse.query(
        read_sql("checks/unreadable_windows.sql"), tables=tables
    ).to_pylist()
    calls = sum(int(row["api_count"]) for row in rows)
    days = len({(row["assistant_id"], row["call_date"]) for row in rows})
    return CheckOutcome(
        name="calls_readable",
        passed=not rows,
        description=(
            "the API serves every call it counts"
            if not rows
            else f"{count(calls, 'call')} in {count(len(rows), 'window')} of "
            f"{count(days, 'partition')} cannot be read: the API answers 500 for them every "
            "time; everything else is loaded, and the next sync tries them again"
        ),
        failing=len(rows),
        sample=rows[:5],
    )


def assistants_synced(outcomes: Sequence[AssistantOutcome]) -> CheckOutcome:
    """Every assistant of the run synced all its days (removed ones are not failures)."""
    failed = with_status(outcomes, FAILED)
    synced = len(with_status(outcomes, SYNCED))
    return CheckOutcome(
        name="assistants_synced",
        passed=not failed,
        description=(
            f"{count(synced, 'assistant')} synced"
            if not failed
            else f"{len(failed)} of {count(len(failed) + synced, 'assistant')} not synced: "
            + "; ".join(o.advice() for o in failed[:5])
        ),
        failing=len(failed),
        sample=[
            {
                "assistant_id": o.assistant_id,
                "error_kind": o.error_kind,
                "error": o.error,
                "failed_days": len(o.failed_days),
            }
            for o in failed[:20]
        ],
    )


def schema_drift(new_fields: Iterable[str]) -> CheckOutcome:
    fields = sorted(set(new_fields))
    return CheckOutcome(
        name="schema_drift",
        passed=not fields,
        description=(
            "no undocumented fields beyond the known ones"
            if not fields
            else f"new API fields kept in `extra`: {', '.join(fields)}"
        ),
        warn_only=True,
        failing=len(fields),
        sample=[{"field": name} for name in fields[:20]],
    )
