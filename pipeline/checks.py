"""Data-quality checks over the warehouse, as plain functions (Dagster turns them into checks).

Each returns a ``CheckOutcome``: passed or not, how serious, and the first failing rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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


def _rows(
    warehouse: Warehouse, name: str, params: dict[str, object] | None = None
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = warehouse.query(read_sql(f"checks/{name}.sql"), params).to_pylist()
    return rows


def _from_rows(
    name: str, rows: list[dict[str, Any]], ok: str, bad: str, *, warn_only: bool = False
) -> CheckOutcome:
    return CheckOutcome(
        name=name,
        passed=not rows,
        description=ok if not rows else bad.format(n=len(rows)),
        warn_only=warn_only,
        failing=len(rows),
        sample=rows[:5],
    )


def unique_room_name(warehouse: Warehouse) -> CheckOutcome:
    rows = _rows(warehouse, "unique_room_name")
    return _from_rows(
        "unique_room_name",
        rows,
        "every call is stored once",
        "{n} room_name(s) stored more than once",
    )


def no_null_keys(warehouse: Warehouse) -> CheckOutcome:
    rows = _rows(warehouse, "null_keys")
    return _from_rows("no_null_keys", rows, "no key column is null", "{n} call(s) lack a key")


def known_call_status(warehouse: Warehouse) -> CheckOutcome:
    rows = _rows(warehouse, "unknown_call_status")
    return _from_rows(
        "known_call_status",
        rows,
        "every status is a documented one",
        "{n} undocumented status value(s); extend the metrics if the platform added one",
        warn_only=True,
    )


def ended_after_started(warehouse: Warehouse) -> CheckOutcome:
    rows = _rows(warehouse, "ended_before_started")
    return _from_rows(
        "ended_after_started",
        rows,
        "no call ends before it starts",
        "{n} call(s) end before they start",
    )


EXPECTED_SCHEMA = pa.schema([("call_date", pa.date32()), ("assistant_id", pa.string())])


def reconciliation(
    warehouse: Warehouse,
    start_day: date,
    end_day: date,
    expected: Iterable[tuple[date, str]] | None = None,
) -> CheckOutcome:
    """Every expected (day, assistant) is synced and holds exactly the API's total.

    ``expected`` is what the run was asked for (each assistant with each of its days), so an
    assistant that never synced a day fails the check instead of going unnoticed; without it, the
    partitions synced in ``[start_day, end_day)`` are checked.
    """
    if expected is None:
        params: dict[str, object] = {"start_day": start_day, "end_day": end_day}
        pairs = warehouse.query(read_sql("checks/synced_partitions.sql"), params)
    else:
        unique = sorted(set(expected))
        days, ids = zip(*unique, strict=True) if unique else ((), ())
        pairs = pa.table({"call_date": list(days), "assistant_id": list(ids)})
    tables = {"expected_partitions": pairs.cast(EXPECTED_SCHEMA)}
    rows = warehouse.query(read_sql("checks/reconciliation.sql"), tables=tables).to_pylist()
    checked = warehouse.query(read_sql("checks/partitions_checked.sql"), tables=tables)
    totals = checked.to_pylist()[0]
    return _from_rows(
        "reconciliation",
        rows,
        f"{count(totals['partitions'], 'partition')}, {count(totals['api_total'], 'call')}: "
        "warehouse == API total",
        "{n} (assistant, day) partition(s) not synced exactly (see the sample); rerun the sync "
        "for those days — a plain `calllogs sync` retries failed ones",
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
            else f"new API field(s) kept in `extra`: {', '.join(fields)}"
        ),
        warn_only=True,
        failing=len(fields),
        sample=[{"field": name} for name in fields[:20]],
    )


def freshness(
    warehouse: Warehouse, *, max_age: timedelta, now: datetime | None = None
) -> CheckOutcome:
    current = now or datetime.now(UTC)
    last = _rows(warehouse, "freshness")[0]["last_synced_at"]
    fresh = last is not None and current - last <= max_age
    when = last.isoformat() if last is not None else "never"
    return CheckOutcome(
        name="freshness",
        passed=fresh,
        description=f"last sync {when}; allowed age {max_age}",
        warn_only=True,
        failing=0 if fresh else 1,
    )


def stale_non_final(
    warehouse: Warehouse, *, older_than: timedelta, now: datetime | None = None
) -> CheckOutcome:
    current = now or datetime.now(UTC)
    rows = _rows(warehouse, "stale_non_final", {"older_than": current - older_than})
    return _from_rows(
        "stale_non_final",
        rows,
        f"no call has been in progress for more than {older_than}",
        "{n} call(s) still initiated/answered after " + str(older_than),
        warn_only=True,
    )


WAREHOUSE_CHECKS: dict[str, Callable[[Warehouse], CheckOutcome]] = {
    "unique_room_name": unique_room_name,
    "no_null_keys": no_null_keys,
    "known_call_status": known_call_status,
    "ended_after_started": ended_after_started,
}
