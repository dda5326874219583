"""``calllogs doctor``: is everything in place for a sync, and what would the next one do?

Each check is a plain function returning a ``Finding`` (ok or not, one line, what to do). They run
in order and stop early only where later ones cannot mean anything (no API without a URL).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipeline.assistants import DISCOVERED, Roster, resolve_roster
from pipeline.client import CallLogsClient
from pipeline.config import Settings
from pipeline.errors import AssistantNotFound, CallLogsError
from pipeline.incremental import SyncPlan, plan_from_warehouse
from pipeline.windows import days_between, midnight, query_bounds, utc_day
from pipeline.wording import count

PAGE = 100


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.check}: {self.detail}"


def check_data_dir(settings: Settings) -> Finding:
    directory = settings.data_dir
    if not directory.exists():
        parent = next((p for p in directory.parents if p.exists()), None)
        if parent is None or not os.access(parent, os.W_OK):
            return Finding("data dir", False, f"{directory} cannot be created; check its parent")
        return Finding("data dir", True, f"{directory} (created by the first sync)")
    if not os.access(directory, os.W_OK):
        return Finding("data dir", False, f"{directory} is not writable; fix its permissions")
    shared = directory.stat().st_mode & 0o077
    note = " (readable by others: chmod 700 it)" if shared else " (owner-only)"
    return Finding("data dir", True, f"{directory}{note}")


def check_warehouse(settings: Settings) -> Finding:
    path = settings.warehouse_path
    if not path.exists():
        return Finding("warehouse", True, f"{path} not created yet (the first sync creates it)")
    try:
        counts = settings.warehouse(lock_timeout_s=10).table_counts()
    except CallLogsError as exc:
        return Finding("warehouse", False, str(exc))
    return Finding(
        "warehouse",
        True,
        f"{path}: {counts.get('call_logs', 0):,} calls, {counts.get('sync_state', 0):,} synced "
        f"assistant-days, {counts.get('sync_failures', 0):,} failed",
    )


def check_api(settings: Settings, client: CallLogsClient) -> tuple[Finding, Roster | None]:
    """The API answers and takes the key; the assistants a sync would cover."""
    try:
        roster = resolve_roster(settings, client)
        if roster.source != DISCOVERED and roster.ids:
            # Any answer past authentication proves the key; an unknown id is reported below.
            with suppress(AssistantNotFound):
                client.call_logs_page(roster.ids[0], page=1, limit=1)
    except CallLogsError as exc:
        return Finding("API and key", False, str(exc)), None
    how = "listed by GET /assistant/list" if roster.source == DISCOVERED else "configured"
    return (
        Finding(
            "API and key",
            True,
            f"{settings.api_url} answers and takes the key; "
            f"{count(len(roster.ids), 'assistant')} {how}",
        ),
        roster,
    )


def assistant_findings(
    roster: Roster, client: CallLogsClient, *, now: datetime | None = None
) -> Iterator[Finding]:
    """Each assistant with yesterday's calls (one ``limit=1`` request each)."""
    yesterday = utc_day(now or datetime.now(UTC)) - timedelta(days=1)
    start, end = query_bounds(midnight(yesterday), midnight(yesterday + timedelta(days=1)))
    for assistant in roster.ids:
        name = roster.names.get(assistant)
        label = f"{name} ({assistant})" if name else assistant
        try:
            page = client.call_logs_page(assistant, page=1, limit=1, start_date=start, end_date=end)
        except CallLogsError as exc:
            yield Finding(f"assistant {label}", False, str(exc))
            continue
        yield Finding(f"assistant {label}", True, f"{page.total:,} calls on {yesterday}")


def next_sync(
    settings: Settings, roster: Roster, client: CallLogsClient, *, now: datetime | None = None
) -> tuple[SyncPlan, int]:
    """The next plain sync's plan and an estimate of its requests (one count per range)."""
    plan = plan_from_warehouse(settings, settings.warehouse(), roster, now=now)
    requests = 0
    for run in plan.runs:
        for assistant, ranges in run.assistants.items():
            for first, last in ranges:
                if not days_between(first, last):
                    continue
                start, end = query_bounds(midnight(first), midnight(last))
                try:
                    total = client.call_logs_page(
                        assistant, page=1, limit=1, start_date=start, end_date=end
                    ).total
                except CallLogsError:
                    total = 0
                requests += max(1, -(-total // PAGE))
    return plan, requests
