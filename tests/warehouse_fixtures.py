"""Warehouse test data: hand-built Arrow tables with exactly the schemas of pipeline.schemas.

Random data is always drawn from a seeded ``random.Random`` so every failure can be replayed.
The process entry points at the bottom run in child processes (multiprocessing, spawn) and so
must stay importable top-level functions.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipeline.schemas import (
    CALL_LOGS_SCHEMA,
    FINAL_STATUSES,
    REJECTED_LOGS_SCHEMA,
    TRANSCRIPTS_SCHEMA,
)
from pipeline.warehouse import PartitionLoad, Warehouse

ASSISTANT_A = "6f1c2a7e-3b0d-4c55-9a1e-0d2b8c4f7a11"
ASSISTANT_B = "a3e9d4b2-58c1-4f0a-b7d6-91c2e5f80b22"
DAY_1 = date(2025, 3, 1)
DAY_2 = date(2025, 3, 2)
DAY_3 = date(2025, 3, 3)
FETCHED_AT = datetime(2025, 3, 10, 8, 30, tzinfo=UTC)

STATUSES = (
    "initiated",
    "answered",
    "completed",
    "busy",
    "no_answer",
    "rejected",
    "cancelled",
    "unreachable",
    "timeout",
    "failed",
)
SIP_CODES: tuple[int | None, ...] = (
    None,
    None,
    200,
    403,
    404,
    408,
    480,
    486,
    487,
    500,
    503,
    600,
    603,
)
SIP_TEXTS: tuple[str | None, ...] = ("Busy Here", "Decline", "Not Found", "busy", None)
END_REASONS = ("natural", "sip_bye", "rtp_silence", "no_rtp", "livekit_disconnected", "error")

Row = dict[str, Any]


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def call_row(
    room_name: str,
    assistant_id: str,
    started_at: datetime,
    *,
    status: str | None = "completed",
    answered_at: datetime | None = None,
    ended_at: datetime | None = None,
    duration: float | None = None,
    sip_code: int | None = None,
    sip_text: str | None = None,
    turns: int = 0,
    to_number: str | None = "+15550100",
    assistant_name: str | None = "Reminder bot",
    extra: dict[str, Any] | None = None,
    call_type: str | None = None,
    call_end_reason: str | None = None,
    agent_ready_at: datetime | None = None,
) -> Row:
    """One call_logs row; call_date and is_final follow from started_at and status."""
    return {
        "room_name": room_name,
        "assistant_id": assistant_id,
        "assistant_name": assistant_name,
        "to_number": to_number,
        "call_status": status,
        "call_status_reason": None if status is None else f"{status} by platform",
        "sip_status_code": sip_code,
        "sip_status_text": sip_text,
        "started_at": started_at,
        "answered_at": answered_at,
        "ended_at": ended_at,
        "call_duration_minutes": duration,
        "billable_duration_minutes": None if duration is None else int(duration + 0.999999),
        "recording_path": None if status != "completed" else f"rec/{room_name}.ogg",
        "call_date": started_at.astimezone(UTC).date(),
        "is_final": status in FINAL_STATUSES,
        "transcript_turns": turns,
        "extra": json.dumps(
            extra if extra is not None else {"recording_egress_id": "EG_1"},
            sort_keys=True,
            separators=(",", ":"),
        ),
        "fetched_at": FETCHED_AT,
        "call_type": call_type,
        "call_service": None if call_type is None else ("web" if call_type == "web" else "twilio"),
        "call_end_reason": call_end_reason,
        "agent_ready_at": agent_ready_at,
        "queue_id": None,
        "platform_number": None,
        "is_passthrough": None if call_type is None else False,
    }


def random_calls(rng: random.Random, day: date, assistant_id: str, count: int) -> list[Row]:
    """``count`` calls of one day: every status, null answered_at, SIP codes, null durations."""
    rows: list[Row] = []
    for index in range(count):
        status = rng.choice((*STATUSES, None))
        started = midnight(day) + timedelta(milliseconds=rng.randrange(86_400_000))
        answered: datetime | None = None
        if status in {"answered", "completed"} and rng.random() < 0.85:
            answered = started + timedelta(microseconds=rng.randrange(300_000, 40_000_000))
        elif rng.random() < 0.08:  # platform oddity: answered_at on a call that did not connect
            answered = started + timedelta(microseconds=rng.randrange(100_000, 5_000_000))
        duration: float | None
        if status == "completed":
            duration = None if rng.random() < 0.15 else round(rng.uniform(0.05, 12.0), 6)
        elif status in {"initiated", "answered"}:
            duration = None
        else:
            duration = rng.choice((0.0, None))
        ended = None if status in {"initiated", "answered"} else started + timedelta(minutes=3)
        sip_code = rng.choice(SIP_CODES)
        ready: datetime | None = None
        if answered is not None and rng.random() < 0.8:  # else dead air: no agent ever joined
            ready = answered + timedelta(microseconds=rng.randrange(0, 3_000_000))
        rows.append(
            call_row(
                f"room-{assistant_id[:4]}-{day.isoformat()}-{index:04d}",
                assistant_id,
                started,
                status=status,
                answered_at=answered,
                ended_at=ended,
                duration=duration,
                sip_code=sip_code,
                sip_text=None if sip_code is None else rng.choice(SIP_TEXTS),
                turns=rng.randrange(0, 5),
                to_number=f"+1555{rng.randrange(20):04d}",
                call_type=rng.choice(("outbound", "outbound", "inbound", "web", None)),
                call_end_reason=rng.choice((*END_REASONS, None)),
                agent_ready_at=ready,
            )
        )
    return rows


def call_logs_table(rows: Sequence[Row]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=CALL_LOGS_SCHEMA)


def transcripts_table(calls: Iterable[Row]) -> pa.Table:
    """``transcript_turns`` utterances per call, alternating agent and user."""
    rows: list[Row] = []
    for call in calls:
        for turn in range(call["transcript_turns"]):
            speaker = "assistant" if turn % 2 == 0 else "user"
            rows.append(
                {
                    "room_name": call["room_name"],
                    "call_date": call["call_date"],
                    "assistant_id": call["assistant_id"],
                    "turn_index": turn,
                    "speaker": speaker,
                    "role": "agent" if speaker == "assistant" else "user",
                    "text": f'line {turn} of {call["room_name"]}: नमस्ते "hi"\n😀',
                    "spoken_at": call["started_at"] + timedelta(seconds=5 * turn),
                }
            )
    return pa.Table.from_pylist(rows, schema=TRANSCRIPTS_SCHEMA)


def rejected_table(day: date, assistant_id: str, count: int) -> pa.Table:
    rows = [
        {
            "assistant_id": assistant_id,
            "call_date": day,
            "reason": "started_at is missing",
            "raw": json.dumps({"room_name": f"bad-{index}", "started_at": None}),
            "fetched_at": FETCHED_AT,
        }
        for index in range(count)
    ]
    return pa.Table.from_pylist(rows, schema=REJECTED_LOGS_SCHEMA)


def partition_load(
    day: date,
    assistant_id: str,
    calls: Sequence[Row],
    *,
    rejected: int = 0,
    requests: int = 3,
) -> PartitionLoad:
    return PartitionLoad(
        call_date=day,
        assistant_id=assistant_id,
        call_logs=call_logs_table(calls),
        transcripts=transcripts_table(calls),
        rejected_logs=rejected_table(day, assistant_id, rejected),
        window_end=midnight(day + timedelta(days=1)),
        api_total=len(calls) + rejected,
        verified_calls=len(calls),
        requests=requests,
    )


def random_load(seed: int, day: date, assistant_id: str, count: int = 40) -> PartitionLoad:
    rng = random.Random(f"{seed}/{day}/{assistant_id}")
    return partition_load(
        day, assistant_id, random_calls(rng, day, assistant_id, count), rejected=seed % 3
    )


def sorted_table(table: pa.Table) -> pa.Table:
    """``table`` in a canonical row order (by every column), for content comparison."""
    keys = [(name, "ascending") for name in table.column_names]
    return table.sort_by(keys) if keys else table


WAREHOUSE_TABLES = (
    "call_logs",
    "transcripts",
    "rejected_logs",
    "daily_assistant_metrics",
    "sip_failures",
    "call_end_reasons",
    "call_transcript_stats",
    "call_status_history",
    "sync_state",
)


def snapshot(
    warehouse: Warehouse, *, exclude: Sequence[str] = ("synced_at",)
) -> dict[str, pa.Table]:
    """Every warehouse table, sorted, without the columns in ``exclude`` (JSON read as text)."""
    tables: dict[str, pa.Table] = {}
    for name in WAREHOUSE_TABLES:
        table = warehouse.query(f"SELECT * FROM {name}")
        keep = [column for column in table.column_names if column not in exclude]
        tables[name] = sorted_table(table.select(keep))
    return tables


def rows_of(table: pa.Table, day: date, assistant_id: str) -> pa.Table:
    """The rows of one partition of a snapshot table."""
    mask = [
        d == day and a == assistant_id
        for d, a in zip(
            table["call_date"].to_pylist(), table["assistant_id"].to_pylist(), strict=True
        )
    ]
    return table.filter(pa.array(mask, pa.bool_()))


def rows_outside(table: pa.Table, day: date, assistant_id: str) -> pa.Table:
    mask = [
        not (d == day and a == assistant_id)
        for d, a in zip(
            table["call_date"].to_pylist(), table["assistant_id"].to_pylist(), strict=True
        )
    ]
    return table.filter(pa.array(mask, pa.bool_()))


# -- child-process entry points (multiprocessing "spawn") -------------------------------------


def load_rounds_in_child(
    path: str, seed: int, assistant_id: str, days: Sequence[date], start: Any
) -> None:
    """Wait for the sibling at ``start`` (a Barrier), then load each day in its own transaction."""
    warehouse = Warehouse(Path(path), lock_timeout_s=60.0)
    start.wait(timeout=60)
    for day in days:
        warehouse.load_partitions([random_load(seed, day, assistant_id)])


def hold_warehouse_in_child(path: str, held: Any, release: Any) -> None:
    """Keep the warehouse open read-write (so locked) from ``held`` until ``release`` is set."""
    con = duckdb.connect(path)
    try:
        held.set()
        release.wait(timeout=60)
    finally:
        con.close()
