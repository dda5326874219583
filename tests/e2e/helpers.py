"""Shared helpers for whole-pipeline tests: truth from the simulator, contents of the warehouse."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipeline.timeparse import parse_timestamp
from simulator import SimulatorServer


def truth_calls(
    sim: SimulatorServer,
    start: datetime,
    end: datetime,
    assistants: Sequence[str] | None = None,
) -> tuple[dict[str, dict[str, Any]], int]:
    """Valid calls by room_name, and the number of records a warehouse must quarantine.

    ``assistants`` defaults to every assistant the simulator ever had (deleted ones included).
    """
    calls: dict[str, dict[str, Any]] = {}
    unusable = 0
    for assistant in sim.all_assistant_ids if assistants is None else assistants:
        for record in sim.truth(assistant, start, end):
            room = record.get("room_name")
            if isinstance(room, str) and room and parse_timestamp(record.get("started_at")):
                calls[room] = record
            else:
                unusable += 1
    return calls, unusable


def warehouse_rows(
    path: Path, sql: str, params: list[object] | None = None
) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def assert_warehouse_equals_truth(
    path: Path,
    sim: SimulatorServer,
    start: datetime,
    end: datetime,
    assistants: Sequence[str] | None = None,
) -> int:
    """The warehouse holds exactly the simulator's calls of ``assistants`` (default: all)."""
    ids = list(sim.all_assistant_ids if assistants is None else assistants)
    calls, unusable = truth_calls(sim, start, end, ids)
    stored = warehouse_rows(
        path,
        "SELECT room_name, call_status, started_at, ended_at, transcript_turns FROM call_logs "
        "WHERE started_at >= ? AND started_at < ? AND list_contains(?, assistant_id)",
        [start, end, ids],
    )
    names = [row[0] for row in stored]
    assert len(names) == len(set(names)), "duplicate calls in the warehouse"
    assert set(names) == set(calls), (
        f"lost {len(set(calls) - set(names))}, extra {len(set(names) - set(calls))}"
    )
    for room, status, started, ended, turns in stored:
        record = calls[room]
        assert status == record.get("call_status"), f"stale status for {room}"
        assert started == parse_timestamp(record["started_at"])
        assert ended == parse_timestamp(record.get("ended_at"))
        expected_turns = record.get("transcripts")
        assert turns == (len(expected_turns) if isinstance(expected_turns, list) else 0)
    rejected = warehouse_rows(
        path,
        "SELECT count(*) FROM rejected_logs WHERE list_contains(?, assistant_id) "
        "AND call_date >= ? AND call_date <= ?",
        [ids, start.date(), (end - timedelta(microseconds=1)).date()],
    )[0][0]
    assert rejected == unusable
    return len(calls)
