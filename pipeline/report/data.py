"""What the report shows, read from the warehouse: the window, and per assistant its numbers.

Each query is one file of ``sql/reports/``; this module only binds the window and groups the rows
by assistant.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pipeline.sqlfiles import read_sql
from pipeline.warehouse import Warehouse

Row = dict[str, Any]


@dataclass(frozen=True)
class ReportWindow:
    """Days ``[first_day, last_day]`` (inclusive), ending on the latest day with calls."""

    first_day: date
    last_day: date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def params(self) -> dict[str, object]:
        return {"first_day": self.first_day, "last_day": self.last_day}


@dataclass(frozen=True)
class Totals:
    calls: int = 0
    answered_calls: int = 0
    outbound_calls: int = 0
    outbound_answered_calls: int = 0
    sip_failure_calls: int = 0
    agent_never_ready_calls: int = 0
    billable_minutes: int = 0

    @property
    def answer_rate(self) -> float | None:
        return self.answered_calls / self.calls if self.calls else None

    @property
    def outbound_answer_rate(self) -> float | None:
        return self.outbound_answered_calls / self.outbound_calls if self.outbound_calls else None

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            **{name: getattr(self, name) + getattr(other, name) for name in _TOTAL_COLUMNS}
        )


_TOTAL_COLUMNS = tuple(Totals.__dataclass_fields__)


@dataclass(frozen=True)
class AssistantData:
    """One assistant's numbers over the window, in the shape of the ``sql/reports`` rows."""

    assistant_id: str
    assistant_name: str | None
    totals: Totals
    daily: list[Row] = field(default_factory=list)  # report_daily.sql, by call_date
    sip_classes: list[Row] = field(default_factory=list)  # report_sip_classes.sql, by class
    end_reasons: list[Row] = field(default_factory=list)  # report_end_reasons.sql, most first

    @property
    def label(self) -> str:
        return self.assistant_name or self.assistant_id


def report_window(warehouse: Warehouse, days: int) -> ReportWindow | None:
    """The last ``days`` days of data present; None when the warehouse holds no call.

    They end on the latest day with calls (not today), and start no earlier than the first.
    """
    (bounds,) = warehouse.query(read_sql("reports/report_days.sql")).to_pylist()
    if bounds["last_day"] is None:
        return None
    last_day: date = bounds["last_day"]
    return ReportWindow(max(last_day - timedelta(days=days - 1), bounds["first_day"]), last_day)


def load_assistants(warehouse: Warehouse, window: ReportWindow) -> list[AssistantData]:
    """Every assistant with calls in the window (by name), with its series and breakdowns."""
    params = window.params()

    def rows(name: str) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = defaultdict(list)
        for row in warehouse.query(read_sql(f"reports/{name}.sql"), params).to_pylist():
            grouped[row.pop("assistant_id")].append(row)
        return grouped

    daily, sip = rows("report_daily"), rows("report_sip_classes")
    reasons = rows("report_end_reasons")
    assistants = warehouse.query(read_sql("reports/report_assistants.sql"), params).to_pylist()
    return [
        AssistantData(
            assistant_id=row["assistant_id"],
            assistant_name=row["assistant_name"],
            totals=Totals(**{name: row[name] or 0 for name in _TOTAL_COLUMNS}),
            daily=daily.get(row["assistant_id"], []),
            sip_classes=sip.get(row["assistant_id"], []),
            end_reasons=reasons.get(row["assistant_id"], []),
        )
        for row in assistants
    ]
