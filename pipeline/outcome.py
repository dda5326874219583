"""What one sync run did for each assistant: synced, failed (and why), or removed.

The extraction stage writes it to the lake (``Lake.write_run_record``) so that the warehouse stage
of the same run, possibly another process, can record failures and the assistants' lifecycle, and
check every (assistant, day) the run was asked for. It is also what ``calllogs sync`` prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pyarrow as pa

from pipeline.errors import (
    ApiError,
    ApiUnavailable,
    ApiUnreachable,
    AssistantNotFound,
    CallLogsError,
    SyncStopped,
    WindowNotConverged,
)
from pipeline.isolate import Unreadable
from pipeline.schemas import UTC_TS
from pipeline.windows import format_bound
from pipeline.wording import count

SYNCED, FAILED, REMOVED = "synced", "failed", "removed"

RUN_OUTCOME_SCHEMA = pa.schema(
    [
        pa.field("assistant_id", pa.string(), nullable=False),
        pa.field("assistant_name", pa.string()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("error_kind", pa.string()),
        pa.field("error", pa.string()),
        pa.field("planned_days", pa.list_(pa.date32()), nullable=False),
        pa.field("synced_days", pa.list_(pa.date32()), nullable=False),
        pa.field("finished_at", UTC_TS, nullable=False),
        pa.field(
            "unreadable",
            pa.list_(
                pa.struct(
                    [
                        pa.field("start", UTC_TS),
                        pa.field("end", UTC_TS),
                        pa.field("api_count", pa.int64()),
                        pa.field("error", pa.string()),
                    ]
                )
            ),
        ),
    ]
)


FAILURES_SCHEMA = pa.schema(
    [
        pa.field("assistant_id", pa.string(), nullable=False),
        pa.field("call_date", pa.date32(), nullable=False),
        pa.field("error_kind", pa.string(), nullable=False),
        pa.field("error", pa.string(), nullable=False),
        pa.field("failed_at", UTC_TS, nullable=False),
        pa.field("run_id", pa.string()),
    ]
)

ASSISTANTS_SCHEMA = pa.schema(
    [
        pa.field("assistant_id", pa.string(), nullable=False),
        pa.field("assistant_name", pa.string()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("note", pa.string()),
        pa.field("seen_at", UTC_TS, nullable=False),
    ]
)


@dataclass
class AssistantOutcome:
    """One assistant's part of a run. ``failed_days`` are the planned days left unsynced."""

    assistant_id: str
    planned_days: list[date]
    assistant_name: str | None = None
    status: str = SYNCED
    error_kind: str | None = None
    error: str | None = None
    synced_days: list[date] = field(default_factory=list)
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Parts of its synced days the API counts but answers the same 500 for, every time.
    unreadable: list[Unreadable] = field(default_factory=list)

    def day_synced(self, day: date, unreadable: Iterable[Unreadable] = ()) -> None:
        """``day`` reached the lake: everything of it but the ``unreadable`` parts."""
        self.synced_days.append(day)
        self.unreadable.extend(unreadable)

    @property
    def unreadable_calls(self) -> int:
        return sum(part.api_count for part in self.unreadable)

    def unreadable_advice(self) -> str:
        """One line: how many calls cannot be read, where, and that everything else is synced."""
        parts = sorted(self.unreadable, key=lambda u: u.start)
        calls = self.unreadable_calls
        if len(parts) == 1:
            where = f"{_instant(parts[0].start)} .. {_instant(parts[0].end)}"
        else:
            where = (
                f"{len(parts)} windows between {_instant(parts[0].start)} and "
                f"{_instant(parts[-1].end)}"
            )
        them = "it" if calls == 1 else "them"
        return (
            f"{count(calls, 'call')} of assistant {self.label} in {where} cannot be read: the "
            f"API answers 500 for {them} every time; everything else is synced (kept in "
            f"unreadable_windows; the next `calllogs sync` tries {them} again — report "
            f"{them} to the platform if {'it persists' if calls == 1 else 'they persist'})"
        )

    @property
    def failed_days(self) -> list[date]:
        if self.status != FAILED:
            return []
        done = set(self.synced_days)
        return [day for day in self.planned_days if day not in done]

    @property
    def label(self) -> str:
        """How a person recognises the assistant: its name when known, always its id."""
        if self.assistant_name:
            return f"{self.assistant_name} ({self.assistant_id})"
        return self.assistant_id

    def fail(self, error: CallLogsError) -> None:
        self.status = FAILED
        self.error_kind = error_kind(error)
        self.error = one_line(str(error))
        self.finished_at = datetime.now(UTC)

    def remove(self, reason: str) -> None:
        self.status = REMOVED
        self.error_kind = "removed"
        self.error = reason
        self.finished_at = datetime.now(UTC)

    def advice(self) -> str:
        """One line for the terminal: what happened to this assistant and what to do."""
        failed = self.failed_days
        span = _span(failed) if failed else ""
        if self.status == REMOVED:
            return f"assistant {self.label}: {self.error}"
        if self.error_kind == "not_found":
            return (
                f"assistant {self.label} not synced: the API answers 404 not found (deleted on "
                "the platform, a wrong id, or a key that does not own it); remove it from "
                "CALL_LOGS_ASSISTANT_IDS (its synced history stays in the warehouse)"
            )
        if self.error_kind == "not_converged":
            return (
                f"assistant {self.label} not synced for {span}: the API's count never matched "
                f"its pages ({self.error}); the next `calllogs sync` retries these days — if it "
                "keeps failing, report it to the platform"
            )
        return (
            f"assistant {self.label} not synced for {span}: {self.error}; the next "
            "`calllogs sync` retries exactly these days"
        )


def with_status(outcomes: Iterable[AssistantOutcome], status: str) -> list[AssistantOutcome]:
    return [o for o in outcomes if o.status == status]


def planned_pairs(outcomes: Iterable[AssistantOutcome]) -> list[tuple[date, str]]:
    """Every (day, assistant) a run was asked for (removed assistants were asked for nothing)."""
    return [
        (day, o.assistant_id) for o in outcomes if o.status != REMOVED for day in o.planned_days
    ]


@dataclass(frozen=True)
class DayStatus:
    """Which assistants synced or failed one day of a run."""

    synced: int
    failed: tuple[str, ...]


def day_statuses(outcomes: Iterable[AssistantOutcome]) -> dict[date, DayStatus]:
    """Per planned day: how many assistants synced it and which failed (one pass per outcome)."""
    synced: dict[date, int] = {}
    failed: dict[date, list[str]] = {}
    for outcome in outcomes:
        for day in outcome.planned_days:
            synced.setdefault(day, 0)
            failed.setdefault(day, [])
        for day in set(outcome.synced_days):
            synced[day] = synced.get(day, 0) + 1
        for day in outcome.failed_days:
            failed[day].append(outcome.assistant_id)
    return {day: DayStatus(synced[day], tuple(sorted(failed[day]))) for day in sorted(synced)}


def error_kind(error: CallLogsError) -> str:
    if isinstance(error, AssistantNotFound):
        return "not_found"
    if isinstance(error, WindowNotConverged):
        return "not_converged"
    if isinstance(error, ApiUnavailable):
        return "unavailable"
    return "api_error"


def concerns_everyone(error: CallLogsError, *, api_has_answered: bool) -> bool:
    """Whether ``error`` stops the whole sync instead of one assistant.

    A 404, a window that never converges or a malformed page belong to the assistant they came
    from. A request whose retries ran out does too, as long as the API answered other requests
    of this sync; when it never answered, or no connection can be made at all, it is the API's.
    A bad key, a refused request, the lake or the warehouse concern everyone.
    """
    if isinstance(error, AssistantNotFound | WindowNotConverged):
        return False
    if isinstance(error, ApiUnreachable | SyncStopped):
        return True
    if isinstance(error, ApiUnavailable):
        return not api_has_answered
    return type(error) is not ApiError


def one_line(text: str) -> str:
    """A server's or library's message flattened to one line (messages can span several)."""
    return " ".join(text.split())


def _instant(moment: datetime) -> str:
    return format_bound(moment)


def _span(days: Sequence[date]) -> str:
    if len(days) == 1:
        return f"{days[0]} (1 day)"
    return f"{min(days)} .. {max(days)} ({len(days)} days)"


def to_table(outcomes: Iterable[AssistantOutcome]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "assistant_id": o.assistant_id,
                "assistant_name": o.assistant_name,
                "status": o.status,
                "error_kind": o.error_kind,
                "error": o.error,
                "planned_days": o.planned_days,
                "synced_days": o.synced_days,
                "finished_at": o.finished_at,
                "unreadable": [
                    {"start": u.start, "end": u.end, "api_count": u.api_count, "error": u.error}
                    for u in o.unreadable
                ],
            }
            for o in outcomes
        ],
        schema=RUN_OUTCOME_SCHEMA,
    )


def from_table(table: pa.Table) -> list[AssistantOutcome]:
    if "unreadable" not in table.column_names:  # a run record written before the column existed
        empty = pa.array([[]] * table.num_rows, RUN_OUTCOME_SCHEMA.field("unreadable").type)
        table = table.append_column("unreadable", empty)
    return [
        AssistantOutcome(
            assistant_id=row["assistant_id"],
            assistant_name=row["assistant_name"],
            status=row["status"],
            error_kind=row["error_kind"],
            error=row["error"],
            planned_days=list(row["planned_days"]),
            synced_days=list(row["synced_days"]),
            finished_at=row["finished_at"],
            unreadable=[
                Unreadable(u["start"], u["end"], int(u["api_count"]), u["error"])
                for u in row["unreadable"] or ()
            ],
        )
        for row in table.select(RUN_OUTCOME_SCHEMA.names).cast(RUN_OUTCOME_SCHEMA).to_pylist()
    ]


def failure_rows(outcomes: Iterable[AssistantOutcome], run_id: str | None) -> pa.Table:
    """One row per (assistant, day) a run was asked for and could not sync."""
    rows = [
        {
            "assistant_id": o.assistant_id,
            "call_date": day,
            "error_kind": o.error_kind or "api_error",
            "error": o.error or "",
            "failed_at": o.finished_at,
            "run_id": run_id,
        }
        for o in outcomes
        for day in o.failed_days
    ]
    return pa.Table.from_pylist(rows, schema=FAILURES_SCHEMA)


def assistant_rows(outcomes: Iterable[AssistantOutcome]) -> pa.Table:
    """What a run learnt about each assistant's lifecycle (for the ``assistants`` table)."""
    return pa.Table.from_pylist(
        [
            {
                "assistant_id": o.assistant_id,
                "assistant_name": o.assistant_name,
                "status": o.status,
                "note": o.error,
                "seen_at": o.finished_at,
            }
            for o in outcomes
        ],
        schema=ASSISTANTS_SCHEMA,
    )
