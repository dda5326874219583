"""daily_assistant_metrics and sip_failures agree with an independent plain-Python computation."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.warehouse import Warehouse
from tests.warehouse_fixtures import (
    ASSISTANT_A,
    ASSISTANT_B,
    DAY_1,
    DAY_2,
    Row,
    call_row,
    midnight,
    partition_load,
    random_calls,
)

TOLERANCE = 1e-9
STATUS_COLUMNS = ("busy", "no_answer", "rejected", "cancelled", "unreachable", "timeout", "failed")


def quantile_linear(values: Sequence[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between the two nearest ranks (quantile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def is_answered(call: Row) -> bool:
    return call["answered_at"] is not None or call["call_status"] in {"answered", "completed"}


def seconds_to_answer(call: Row) -> float:
    delta: timedelta = call["answered_at"] - call["started_at"]
    microseconds: int = delta // timedelta(microseconds=1)
    return microseconds / 1_000_000


def expected_daily(calls: Iterable[Row]) -> dict[tuple[date, str], dict[str, Any]]:
    groups: dict[tuple[date, str], list[Row]] = defaultdict(list)
    for call in calls:
        groups[(call["call_date"], call["assistant_id"])].append(call)
    expected: dict[tuple[date, str], dict[str, Any]] = {}
    for key, group in groups.items():
        n = len(group)
        statuses = Counter(call["call_status"] for call in group)
        answered = sum(1 for call in group if is_answered(call))
        completed = [call for call in group if call["call_status"] == "completed"]
        durations = [
            c["call_duration_minutes"] for c in completed if c["call_duration_minutes"] is not None
        ]
        waits = [seconds_to_answer(call) for call in group if call["answered_at"] is not None]
        row: dict[str, Any] = {
            "calls": n,
            "answered_calls": answered,
            "answer_rate": answered / n,
            "completed_calls": len(completed),
            "in_progress_calls": statuses["initiated"] + statuses["answered"],
            **{status: statuses[status] for status in STATUS_COLUMNS},
            "ner": (answered + statuses["busy"] + statuses["no_answer"] + statuses["rejected"]) / n,
            "sip_failure_calls": sum(1 for call in group if (call["sip_status_code"] or 0) >= 400),
            "talk_minutes": math.fsum(durations),
            "avg_talk_minutes": statistics.fmean(durations) if durations else None,
            "p50_seconds_to_answer": quantile_linear(waits, 0.5),
            "p90_seconds_to_answer": quantile_linear(waits, 0.9),
            "avg_transcript_turns": statistics.fmean(call["transcript_turns"] for call in group),
        }
        expected[key] = row
    return expected


def most_common_text(texts: Sequence[str | None]) -> str | None:
    counts = Counter(text for text in texts if text is not None)
    if not counts:
        return None
    return min(counts.items(), key=lambda item: (-item[1], item[0]))[0]


def expected_sip_failures(calls: Iterable[Row]) -> dict[tuple[date, str, int], dict[str, Any]]:
    totals: Counter[tuple[date, str]] = Counter()
    texts: dict[tuple[date, str, int], list[str | None]] = defaultdict(list)
    for call in calls:
        day_key = (call["call_date"], call["assistant_id"])
        totals[day_key] += 1
        code = call["sip_status_code"]
        if code is not None and code >= 400:
            texts[(*day_key, code)].append(call["sip_status_text"])
    return {
        key: {
            "sip_status_text": most_common_text(group),
            "sip_class": key[2] // 100,
            "calls": len(group),
            "share_of_calls": len(group) / totals[(key[0], key[1])],
        }
        for key, group in texts.items()
    }


def assert_rows_match(actual: dict[str, Any], expected: dict[str, Any], where: object) -> None:
    for column, want in expected.items():
        got = actual[column]
        if isinstance(want, float):
            assert got is not None, (where, column, got, want)
            assert math.isclose(got, want, rel_tol=TOLERANCE, abs_tol=TOLERANCE), (where, column)
        else:
            assert got == want, (where, column, got, want)


def load_and_read(
    warehouse: Warehouse, calls_by_partition: dict[tuple[date, str], list[Row]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    warehouse.load_partitions(
        [partition_load(day, who, calls) for (day, who), calls in calls_by_partition.items()]
    )
    daily = warehouse.query("SELECT * FROM daily_assistant_metrics").to_pylist()
    sip = warehouse.query("SELECT * FROM sip_failures").to_pylist()
    return daily, sip


def check_against_reference(
    calls: list[Row], daily: list[dict[str, Any]], sip: list[dict[str, Any]]
) -> None:
    want_daily = expected_daily(calls)
    got_daily = {(row["call_date"], row["assistant_id"]): row for row in daily}
    assert got_daily.keys() == want_daily.keys()
    for key, want in want_daily.items():
        assert_rows_match(got_daily[key], want, key)

    want_sip = expected_sip_failures(calls)
    got_sip = {(row["call_date"], row["assistant_id"], row["sip_status_code"]): row for row in sip}
    assert got_sip.keys() == want_sip.keys()
    for code_key, want_code in want_sip.items():
        assert_rows_match(got_sip[code_key], want_code, code_key)


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 8, 13])
def test_metrics_match_a_plain_python_computation(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    partitions = {
        (day, who): random_calls(rng, day, who, rng.choice((1, 2, 3, rng.randrange(4, 120))))
        for day in (DAY_1, DAY_2)
        for who in (ASSISTANT_A, ASSISTANT_B)
    }
    calls = [call for group in partitions.values() for call in group]

    daily, sip = load_and_read(Warehouse(tmp_path / "w.duckdb"), partitions)

    check_against_reference(calls, daily, sip)


def test_metrics_of_reloaded_partitions_match_the_reference(tmp_path: Path) -> None:
    rng = random.Random(99)
    warehouse = Warehouse(tmp_path / "w.duckdb")
    partitions = {
        (day, who): random_calls(rng, day, who, 60)
        for day in (DAY_1, DAY_2)
        for who in (ASSISTANT_A, ASSISTANT_B)
    }
    load_and_read(warehouse, partitions)
    partitions[(DAY_2, ASSISTANT_B)] = random_calls(random.Random(100), DAY_2, ASSISTANT_B, 33)

    daily, sip = load_and_read(warehouse, {(DAY_2, ASSISTANT_B): partitions[(DAY_2, ASSISTANT_B)]})

    check_against_reference([c for group in partitions.values() for c in group], daily, sip)


def test_days_without_completed_or_answered_calls_have_zero_talk_and_null_averages(
    tmp_path: Path,
) -> None:
    start = midnight(DAY_1) + timedelta(hours=10)
    calls = [
        call_row("r1", ASSISTANT_A, start, status="busy", sip_code=486, sip_text=None),
        call_row("r2", ASSISTANT_A, start, status="initiated", duration=None, turns=3),
    ]
    daily, sip = load_and_read(Warehouse(tmp_path / "w.duckdb"), {(DAY_1, ASSISTANT_A): calls})
    (row,) = daily
    assert row["talk_minutes"] == 0.0
    assert row["avg_talk_minutes"] is None
    assert row["p50_seconds_to_answer"] is None and row["p90_seconds_to_answer"] is None
    assert (row["answer_rate"], row["ner"], row["avg_transcript_turns"]) == (0.0, 0.5, 1.5)
    assert sip == [
        {
            "call_date": DAY_1,
            "assistant_id": ASSISTANT_A,
            "sip_status_code": 486,
            "sip_status_text": None,
            "sip_class": 4,
            "calls": 1,
            "share_of_calls": 0.5,
        }
    ]


def test_sip_text_ties_go_to_the_smallest_text_and_nulls_are_ignored(tmp_path: Path) -> None:
    start = midnight(DAY_1) + timedelta(hours=10)
    texts = ["Busy Here", "Busy", None, None, None, "Busy Here", "Busy"]
    calls = [
        call_row(f"r{i}", ASSISTANT_A, start, status="busy", sip_code=486, sip_text=text)
        for i, text in enumerate(texts)
    ]
    calls.append(call_row("r-ok", ASSISTANT_A, start, status="completed", sip_code=200))
    calls.append(
        call_row("r-603", ASSISTANT_A, start, status="rejected", sip_code=603, sip_text="Decline")
    )
    _, sip = load_and_read(Warehouse(tmp_path / "w.duckdb"), {(DAY_1, ASSISTANT_A): calls})
    by_code = {row["sip_status_code"]: row for row in sip}
    assert by_code.keys() == {486, 603}
    assert (by_code[486]["sip_status_text"], by_code[486]["calls"]) == ("Busy", 7)
    assert by_code[486]["share_of_calls"] == pytest.approx(7 / 9)
    assert (by_code[603]["sip_class"], by_code[603]["sip_status_text"]) == (6, "Decline")


def test_seconds_to_answer_interpolate_linearly(tmp_path: Path) -> None:
    start = midnight(DAY_1) + timedelta(hours=8)
    waits = [1.0, 2.0, 4.0, 10.0]
    calls = [
        call_row(
            f"r{i}",
            ASSISTANT_A,
            start,
            status="completed",
            answered_at=start + timedelta(seconds=wait),
            duration=1.0,
        )
        for i, wait in enumerate(waits)
    ]
    daily, _ = load_and_read(Warehouse(tmp_path / "w.duckdb"), {(DAY_1, ASSISTANT_A): calls})
    (row,) = daily
    assert row["p50_seconds_to_answer"] == pytest.approx(3.0)  # halfway between 2 and 4
    assert row["p90_seconds_to_answer"] == pytest.approx(8.2)  # 4 + 0.7 * (10 - 4)
