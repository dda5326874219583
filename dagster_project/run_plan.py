"""A run's per-assistant plan as Dagster run config, and back.

The schedule and ``calllogs sync`` plan each assistant from its own state and put the result in
the run's config, so every assistant of a run reads only its own days. A run launched without it
(a materialisation or backfill from the UI) covers every current assistant over its partitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import dagster as dg

from pipeline.assistants import resolve_roster
from pipeline.client import CallLogsClient
from pipeline.config import Settings, validate_assistant_id
from pipeline.incremental import DayRange, RunPlan, plan_requested

ASSET_WITH_PLAN = "raw_call_logs"


class AssistantDays(dg.Config):
    """One assistant of the run and the day ranges it reads (``YYYY-MM-DD/YYYY-MM-DD``, end
    exclusive)."""

    assistant_id: str
    days: list[str]
    name: str = ""


class Retirement(dg.Config):
    assistant_id: str
    reason: str


class SyncRunConfig(dg.Config):
    """Which assistant reads which days; unset: every current assistant, all the run's days."""

    assistants: list[AssistantDays] | None = None
    retire: list[Retirement] | None = None


def run_config_for(plan: RunPlan) -> dict[str, Any]:
    """The run config that makes a run of the sync job carry ``plan``."""
    config = {
        "assistants": [
            {
                "assistant_id": assistant,
                "days": [f"{start}/{end}" for start, end in ranges],
                "name": plan.names.get(assistant, ""),
            }
            for assistant, ranges in plan.assistants.items()
        ],
        "retire": [{"assistant_id": a, "reason": r} for a, r in plan.retire.items()],
    }
    return {"ops": {ASSET_WITH_PLAN: {"config": config}}}


def assistants_in(run_config: Mapping[str, Any]) -> set[str]:
    """The assistants a run's config says it syncs (none when it covers every assistant)."""
    config = run_config.get("ops", {}).get(ASSET_WITH_PLAN, {}).get("config", {}) or {}
    return {str(item.get("assistant_id")) for item in config.get("assistants") or ()}


def plan_of_run(
    config: SyncRunConfig,
    start: date,
    end: date,
    *,
    settings: Settings,
    client: CallLogsClient,
) -> RunPlan:
    """The run's plan: from its config, else every current assistant over ``[start, end)``."""
    if config.assistants is None:
        return plan_requested(start, end, resolve_roster(settings, client)).runs[0]
    assistants = {
        validate_assistant_id(item.assistant_id): tuple(
            _clipped(_parse_range(text), start, end) for text in item.days
        )
        for item in config.assistants
    }
    return RunPlan(
        start,
        end,
        {a: tuple(r for r in ranges if r[0] < r[1]) for a, ranges in assistants.items()},
        "planned per assistant",
        retire={validate_assistant_id(r.assistant_id): r.reason for r in config.retire or ()},
        names={item.assistant_id: item.name for item in config.assistants if item.name},
    )


def _parse_range(text: str) -> DayRange:
    first, _, last = text.partition("/")
    try:
        return date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise dg.Failure(
            f"run config day range {text!r} is not YYYY-MM-DD/YYYY-MM-DD; "
            "launch the run without config to sync every assistant"
        ) from None


def _clipped(days: DayRange, start: date, end: date) -> DayRange:
    """A range kept inside the run's partitions (empty, first >= last, when outside them)."""
    return max(days[0], start), min(days[1], end)
