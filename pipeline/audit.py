"""The history audit: the API's totals against the warehouse's counts, narrowed to differing days.

An incremental sync re-reads only the recent past, so a call written into an old, finished day (a
delayed webhook, an import, a clock fix) is never seen. The audit finds such days cheaply: per
assistant it reads the API's ``pagination.total`` for wide windows (calendar months; a ``limit=1``
request is enough) and compares it with what the warehouse holds for the same days — calls,
quarantined rows and calls recorded as unreadable — with the API's own inclusive bounds (a
half-open ``[start, end)`` of days is asked for as ``end - 1 ms``, exactly as a sync reads it). A
window that differs is halved at a midnight and each half counted again, down to the single days
that differ. Requests: one per assistant and month, plus about ``2 x log2(31)`` per differing day.

The audit itself changes nothing; what it found is re-synced by the caller as ordinary sync runs
(``repair_runs``), and ``recount`` tells whether the days agree afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pipeline.client import CallLogsClient
from pipeline.errors import PageAlwaysFails
from pipeline.incremental import RunPlan
from pipeline.isolate import EMPTY_PAGE
from pipeline.sqlfiles import read_sql
from pipeline.warehouse import Warehouse
from pipeline.windows import ONE_DAY, contiguous_ranges, midnight, query_bounds
from pipeline.wording import count

DayWindow = tuple[date, date]  # [first, last) of whole UTC days
ApiTotal = Callable[[str, date, date], int]


@dataclass(frozen=True)
class Difference:
    """One (assistant, day) whose API total is not what the warehouse holds."""

    assistant_id: str
    day: date
    api_total: int
    stored: int

    def line(self) -> str:
        gap = self.api_total - self.stored
        what = (
            f"{count(gap, 'call')} missing from the warehouse"
            if gap > 0
            else f"{count(-gap, 'row')} more in the warehouse than the API holds"
        )
        return (
            f"differs: assistant {self.assistant_id} day {self.day}: API total {self.api_total}, "
            f"warehouse {self.stored} ({what})"
        )


@dataclass
class AssistantAudit:
    """What the audit compared for one assistant and which days differ."""

    assistant_id: str
    windows: int = 0  # wide windows compared
    api_total: int = 0
    stored: int = 0
    differences: list[Difference] = field(default_factory=list)

    def line(self) -> str:
        verdict = (
            "match" if not self.differences else f"differ on {count(len(self.differences), 'day')}"
        )
        return (
            f"compared: assistant {self.assistant_id}: {count(self.windows, 'window')}, API "
            f"total {self.api_total}, warehouse {self.stored}: {verdict}"
        )


@dataclass
class AuditReport:
    since: date
    until: date
    assistants: list[AssistantAudit] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    @property
    def differences(self) -> list[Difference]:
        return [d for a in self.assistants for d in a.differences]

    def lines(self) -> list[str]:
        """One line per assistant compared, then one per day that differs."""
        out = [a.line() for a in self.assistants]
        out += [d.line() for d in self.differences]
        return out


def month_windows(since: date, until: date) -> list[DayWindow]:
    """``[since, until)`` cut at the first of every month."""
    windows: list[DayWindow] = []
    start = since
    while start < until:
        following = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        end = min(following, until)
        windows.append((start, end))
        start = end
    return windows


def api_total(client: CallLogsClient, assistant_id: str, first: date, last: date) -> int:
    """The API's count of calls started in days ``[first, last)`` (one ``limit=1`` request).

    Page 1 holds one record; should that be a record the API cannot serve, a page beyond the end
    (which holds none, and still carries the total) answers instead.
    """
    start_date, end_date = query_bounds(midnight(first), midnight(last))
    try:
        page = client.call_logs_page(
            assistant_id,
            page=1,
            limit=1,
            start_date=start_date,
            end_date=end_date,
            give_up_after_same_500=3,
        )
    except PageAlwaysFails:
        page = client.call_logs_page(
            assistant_id, page=EMPTY_PAGE, limit=1, start_date=start_date, end_date=end_date
        )
    return page.total


def stored_per_day(
    warehouse: Warehouse, assistants: Sequence[str], since: date, until: date
) -> dict[str, dict[date, int]]:
    """Per assistant and day: calls + quarantined rows + calls recorded unreadable."""
    out: dict[str, dict[date, int]] = {a: {} for a in assistants}
    if not warehouse.path.exists():
        return out
    warehouse.ensure_schema()
    rows = warehouse.query(
        read_sql("state/stored_per_day.sql"),
        {"since": since, "until": until, "assistants": list(assistants)},
    ).to_pylist()
    for row in rows:
        out[row["assistant_id"]][row["call_date"]] = int(row["stored"])
    return out


def _stored_in(stored: Mapping[date, int], window: DayWindow) -> int:
    first, last = window
    return sum(n for day, n in stored.items() if first <= day < last)


def _halves(window: DayWindow) -> tuple[DayWindow, DayWindow]:
    first, last = window
    middle = first + timedelta(days=(last - first).days // 2)
    return (first, middle), (middle, last)


def audit_assistant(
    assistant_id: str,
    windows: Iterable[DayWindow],
    stored: Mapping[date, int],
    total: ApiTotal,
) -> AssistantAudit:
    """Compare each window; halve every one that differs until single days remain."""
    result = AssistantAudit(assistant_id)

    def narrow(window: DayWindow, api: int) -> None:
        held = _stored_in(stored, window)
        if api == held:
            return
        if (window[1] - window[0]).days == 1:
            result.differences.append(Difference(assistant_id, window[0], api, held))
            return
        for half in _halves(window):
            narrow(half, total(assistant_id, *half))

    for window in windows:
        api = total(assistant_id, *window)
        result.windows += 1
        result.api_total += api
        result.stored += _stored_in(stored, window)
        narrow(window, api)
    result.differences.sort(key=lambda d: d.day)
    return result


def run_audit(
    client: CallLogsClient,
    warehouse: Warehouse,
    assistants: Sequence[str],
    since: date,
    until: date,
    *,
    concurrency: int = 8,
) -> AuditReport:
    """Audit every assistant over ``[since, until)``; assistants are compared concurrently."""
    began = datetime.now()
    requests_before = client.counters.snapshot()[0]
    stored = stored_per_day(warehouse, assistants, since, until)
    windows = month_windows(since, until)

    def one(assistant_id: str) -> AssistantAudit:
        return audit_assistant(
            assistant_id,
            windows,
            stored[assistant_id],
            lambda a, first, last: api_total(client, a, first, last),
        )

    with ThreadPoolExecutor(max(1, min(concurrency, len(assistants)))) as pool:
        audits = list(pool.map(one, assistants))
    return AuditReport(
        since,
        until,
        audits,
        requests=client.counters.snapshot()[0] - requests_before,
        seconds=(datetime.now() - began).total_seconds(),
    )


def repair_runs(differences: Sequence[Difference], names: Mapping[str, str]) -> list[RunPlan]:
    """Sync runs that re-read exactly the differing days: one per contiguous range of them."""
    days_of: dict[str, set[date]] = {}
    for difference in differences:
        days_of.setdefault(difference.assistant_id, set()).add(difference.day)
    union = sorted({d.day for d in differences})
    runs = []
    for start, end in contiguous_ranges(union):
        members = {
            assistant: tuple(contiguous_ranges([d for d in days if start <= d < end]))
            for assistant, days in sorted(days_of.items())
            if any(start <= d < end for d in days)
        }
        runs.append(
            RunPlan(
                start,
                end,
                members,
                "audit: days whose API total differs from the warehouse",
                names={a: names[a] for a in members if names.get(a)},
            )
        )
    return runs


def recount(
    client: CallLogsClient, warehouse: Warehouse, differences: Sequence[Difference]
) -> list[Difference]:
    """The differing days counted again on both sides; those that still differ."""
    if not differences:
        return []
    assistants = sorted({d.assistant_id for d in differences})
    since = min(d.day for d in differences)
    until = max(d.day for d in differences) + ONE_DAY
    stored = stored_per_day(warehouse, assistants, since, until)
    still = []
    for difference in differences:
        api = api_total(client, difference.assistant_id, difference.day, difference.day + ONE_DAY)
        held = stored[difference.assistant_id].get(difference.day, 0)
        if api != held:
            still.append(Difference(difference.assistant_id, difference.day, api, held))
    return still
