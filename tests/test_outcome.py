"""What a run did per assistant: which errors stay with one assistant, and the lines people read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pipeline.errors import (
    ApiError,
    ApiUnavailable,
    ApiUnreachable,
    AssistantNotFound,
    AuthError,
    CallLogsError,
    LakeError,
    RequestRejected,
    SyncStopped,
    WindowNotConverged,
)
from pipeline.outcome import (
    FAILED,
    AssistantOutcome,
    concerns_everyone,
    failure_rows,
    from_table,
    to_table,
)

A = "550e8400-e29b-41d4-a716-446655440000"
DAYS = [date(2026, 11, 1) + timedelta(days=n) for n in range(4)]


@pytest.mark.parametrize(
    ("error", "answered", "everyone"),
    [
        (AssistantNotFound("404"), False, False),
        (WindowNotConverged("never"), True, False),
        (ApiError("a malformed page"), True, False),
        (ApiUnavailable("500s"), True, False),  # the API answers others: this one's problem
        (ApiUnavailable("500s"), False, True),  # it never answered anyone: the API's
        (ApiUnreachable("refused"), True, True),
        (AuthError("401"), True, True),
        (RequestRejected("422"), True, True),
        (LakeError("disk full"), True, True),
        (SyncStopped("stopped"), True, True),
    ],
)
def test_which_errors_stop_everyone(error: CallLogsError, answered: bool, everyone: bool) -> None:
    assert concerns_everyone(error, api_has_answered=answered) is everyone


def test_a_failure_keeps_the_synced_days_and_says_what_to_do_in_one_line() -> None:
    outcome = AssistantOutcome(A, planned_days=DAYS, assistant_name="Sales")
    outcome.synced_days = DAYS[:1]
    outcome.fail(ApiUnavailable("GET /x failed: HTTP 500 Internal Server Error:\n  1 validation"))
    assert outcome.status == FAILED
    assert outcome.failed_days == DAYS[1:]
    line = outcome.advice()
    assert "\n" not in line
    assert line.startswith(
        f"assistant Sales ({A}) not synced for 2026-11-02 .. 2026-11-04 (3 days)"
    )
    assert "retries exactly these days" in line
    rows = failure_rows([outcome], "run-1").to_pylist()
    assert [r["call_date"] for r in rows] == DAYS[1:]
    assert {r["error_kind"] for r in rows} == {"unavailable"}


def test_outcomes_survive_the_lake_record() -> None:
    done = AssistantOutcome(A, planned_days=DAYS, synced_days=DAYS)
    gone = AssistantOutcome("550e8400-e29b-41d4-a716-446655440001", planned_days=[])
    gone.remove("no longer listed")
    failed = AssistantOutcome("550e8400-e29b-41d4-a716-446655440002", planned_days=DAYS)
    failed.fail(AssistantNotFound("404"))
    back = from_table(to_table([done, gone, failed]))
    assert back == [done, gone, failed]
    assert "404 not found" in back[2].advice() and "CALL_LOGS_ASSISTANT_IDS" in back[2].advice()
    assert failure_rows(back, None).num_rows == len(DAYS)
