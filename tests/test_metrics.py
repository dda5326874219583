"""daily_assistant_metrics and sip_failures agree with an independent plain-Python computation."""

from __future__ import annotations

import dataclasses
import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pipeline.schemas import TRANSCRIPTS_SCHEMA
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
    transcripts_table,
)

TOLERANCE = 1e-9
# the contract's terminal statuses, written out here so the reference shares nothing with the code
FINAL_STATUSES = frozenset(
    {"completed", "busy", "no_answer", "rejected", "cancelled", "unreachable", "timeout", "failed"}
)
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
            **expected_wave2_daily(group),
        }
        expected[key] = row
    return expected


def seconds_between(earlier: datetime, later: datetime) -> float:
    return ((later - earlier) // timedelta(microseconds=1)) / 1_000_000


def expected_wave2_daily(group: Sequence[Row]) -> dict[str, Any]:
    """The columns of daily_assistant_metrics that come from the platform's extra fields."""
    kinds = Counter(call["call_type"] for call in group)
    outbound = [call for call in group if call["call_type"] == "outbound"]
    outbound_answered = sum(1 for call in outbound if is_answered(call))
    both = [call for call in group if call["answered_at"] and call["agent_ready_at"]]
    to_ready = [seconds_between(call["answered_at"], call["agent_ready_at"]) for call in both]
    billable = [call["billable_duration_minutes"] for call in group]
    return {
        "outbound_calls": len(outbound),
        "outbound_answered_calls": outbound_answered,
        "outbound_answer_rate": outbound_answered / len(outbound) if outbound else None,
        "inbound_calls": kinds["inbound"],
        "web_calls": kinds["web"],
        "billable_minutes": sum(minutes for minutes in billable if minutes is not None),
        "agent_never_ready_calls": sum(
            1
            for call in group
            if call["call_status"] in FINAL_STATUSES
            and call["answered_at"] is not None
            and call["agent_ready_at"] is None
        ),
        "p50_seconds_to_agent_ready": quantile_linear(to_ready, 0.5),
        "p90_seconds_to_agent_ready": quantile_linear(to_ready, 0.9),
    }


def expected_end_reasons(calls: Iterable[Row]) -> dict[tuple[date, str, str], dict[str, Any]]:
    counts: Counter[tuple[date, str, str]] = Counter()
    with_reason: Counter[tuple[date, str]] = Counter()
    for call in calls:
        if call["call_end_reason"] is not None:
            counts[(call["call_date"], call["assistant_id"], call["call_end_reason"])] += 1
            with_reason[(call["call_date"], call["assistant_id"])] += 1
    return {
        key: {"calls": n, "share_of_calls": n / with_reason[(key[0], key[1])]}
        for key, n in counts.items()
    }


def expected_transcript_stats(
    calls: Iterable[Row], utterances: Iterable[Row]
) -> dict[tuple[str], dict[str, Any]]:
    """``utterances`` carry room_name, turn_index, role, text and spoken_at."""
    by_room: dict[str, list[Row]] = defaultdict(list)
    for utterance in utterances:
        by_room[utterance["room_name"]].append(utterance)
    answered = {call["room_name"]: call for call in calls}
    expected: dict[tuple[str], dict[str, Any]] = {}
    for room, said in by_room.items():
        said.sort(key=lambda utterance: utterance["turn_index"])
        words = {"agent": 0, "user": 0}
        for utterance in said:
            if utterance["role"] in words and utterance["text"] is not None:
                words[utterance["role"]] += len(utterance["text"].split())
        first_agent = next((u for u in said if u["role"] == "agent"), None)
        call = answered[room]
        first_seconds = None
        if first_agent is not None and first_agent["spoken_at"] and call["answered_at"]:
            first_seconds = seconds_between(call["answered_at"], first_agent["spoken_at"])
        spoken = words["agent"] + words["user"]
        expected[(room,)] = {
            "assistant_id": call["assistant_id"],
            "call_date": call["call_date"],
            "turns": len(said),
            "agent_turns": sum(1 for u in said if u["role"] == "agent"),
            "user_turns": sum(1 for u in said if u["role"] == "user"),
            "agent_words": words["agent"],
            "user_words": words["user"],
            "agent_word_share": words["agent"] / spoken if spoken else None,
            "first_agent_seconds": first_seconds,
        }
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


def keyed(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[tuple[Any, ...], Row]:
    return {tuple(row[key] for key in keys): row for row in rows}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_end_reasons_and_transcript_stats_match_a_plain_python_computation(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    partitions = {
        (day, who): random_calls(rng, day, who, rng.randrange(1, 80))
        for day in (DAY_1, DAY_2)
        for who in (ASSISTANT_A, ASSISTANT_B)
    }
    calls = [call for group in partitions.values() for call in group]
    warehouse = Warehouse(tmp_path / "w.duckdb")
    load_and_read(warehouse, partitions)
    utterances = transcripts_table(calls).to_pylist()

    reasons = warehouse.query("SELECT * FROM call_end_reasons").to_pylist()
    want_reasons = expected_end_reasons(calls)
    got_reasons = keyed(reasons, ("call_date", "assistant_id", "call_end_reason"))
    assert got_reasons.keys() == want_reasons.keys()
    for key, want in want_reasons.items():
        assert_rows_match(got_reasons[key], want, key)

    stats = warehouse.query("SELECT * FROM call_transcript_stats").to_pylist()
    want_stats = expected_transcript_stats(calls, utterances)
    got_stats = keyed(stats, ("room_name",))
    assert got_stats.keys() == want_stats.keys()
    assert want_stats, "some calls have utterances"
    for room, want_row in want_stats.items():
        assert_rows_match(got_stats[room], want_row, room)


# Every character Python's str.split() splits on, and some it does not (zero-width space, BOM,
# the Mongolian vowel separator, which stopped being whitespace in Unicode 6.3).
PYTHON_WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
NOT_WHITESPACE = "\u200b\ufeff\u180e"


@pytest.mark.parametrize("seed", range(4))
def test_words_are_counted_as_python_str_split_counts_them(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    alphabet = [*PYTHON_WHITESPACE, *NOT_WHITESPACE, "a", "नमस्ते", "😀", '"', "\\", "'"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 15))) for _ in range(300)]
    texts[:3] = ["", PYTHON_WHITESPACE, "one two\u3000three\x1cfour"]
    call = call_row("room-words", ASSISTANT_A, midnight(DAY_1), answered_at=midnight(DAY_1))
    load = partition_load(DAY_1, ASSISTANT_A, [call])
    utterances = pa.table(
        {
            "room_name": ["room-words"] * len(texts),
            "call_date": [DAY_1] * len(texts),
            "assistant_id": [ASSISTANT_A] * len(texts),
            "turn_index": list(range(len(texts))),
            "speaker": ["user"] * len(texts),
            "role": ["user"] * len(texts),
            "text": texts,
            "spoken_at": [None] * len(texts),
        },
        schema=TRANSCRIPTS_SCHEMA,
    )
    warehouse = Warehouse(tmp_path / "w.duckdb")
    warehouse.load_partitions([dataclasses.replace(load, transcripts=utterances)])
    row = warehouse.query("SELECT * FROM call_transcript_stats").to_pylist()[0]
    assert row["user_words"] == sum(len(text.split()) for text in texts)
    assert (row["agent_words"], row["agent_word_share"], row["first_agent_seconds"]) == (
        0,
        0.0,
        None,
    )
