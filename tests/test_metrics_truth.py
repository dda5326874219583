"""The metrics of a real library sync agree with the simulator's ground truth, computed in Python.

For a few seeds: serve the simulator, sync three days (the last one cut at FROZEN_NOW, noon, so it
holds calls still initiated or answered) with the library's two stages, then recompute every
column of daily_assistant_metrics and sip_failures from ``sim.truth`` records, with nothing of the
pipeline but ``parse_timestamp``, and compare row by row.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.client import make_client
from pipeline.config import Settings
from pipeline.lake import Lake
from pipeline.sync import extract_to_lake, load_lake_into_warehouse
from pipeline.timeparse import parse_timestamp
from pipeline.warehouse import Warehouse
from simulator import SimulatorConfig, SimulatorServer
from tests.simulator_client import FROZEN_NOW
from tests.test_metrics import expected_daily, expected_sip_failures
from tests.warehouse_fixtures import Row

SEEDS = (3, 17, 2024)
START = FROZEN_NOW.date() - timedelta(days=2)
END = FROZEN_NOW.date() + timedelta(days=1)  # exclusive; the last day ends at FROZEN_NOW
TOLERANCE = 1e-9
DAILY_KEYS = ("call_date", "assistant_id")
SIP_KEYS = ("call_date", "assistant_id", "sip_status_code")
_INTEGER_TEXT = re.compile(r"[+-]?\d+")


def as_int(value: object) -> int | None:
    """An integer, or integer text such as "486" (the simulator's string_ints records)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    return None


def as_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def as_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def truth_rows(sim: SimulatorServer, day: date) -> tuple[list[Row], int]:
    """The calls of one UTC day up to FROZEN_NOW as the metrics see them, and how many are cut.

    A record without a room_name or with an unparseable started_at is quarantined (not a call);
    when a room_name occurs twice, its last record wins.
    """
    start = datetime.combine(day, time(0), tzinfo=UTC)
    end = min(start + timedelta(days=1), FROZEN_NOW)
    calls: list[Row] = []
    quarantined = 0
    for assistant_id in sim.assistant_ids:
        by_room: dict[str, Row] = {}
        for record in sim.truth(assistant_id, start, end):
            room = record.get("room_name")
            started = parse_timestamp(record.get("started_at"))
            if not isinstance(room, str) or not room.strip() or started is None:
                quarantined += 1
                continue
            turns = record.get("transcripts")
            by_room.pop(room, None)
            by_room[room] = {
                "room_name": room,
                "assistant_id": assistant_id,
                "call_date": started.date(),
                "call_status": as_text(record.get("call_status")),
                "started_at": started,
                "answered_at": parse_timestamp(record.get("answered_at")),
                "call_duration_minutes": as_float(record.get("call_duration_minutes")),
                "sip_status_code": as_int(record.get("sip_status_code")),
                "sip_status_text": as_text(record.get("sip_status_text")),
                "transcript_turns": len(turns) if isinstance(turns, list) else 0,
            }
        calls.extend(by_room.values())
    return calls, quarantined


def sync_three_days(sim: SimulatorServer, data_dir: Path) -> Warehouse:
    settings = Settings.from_env(
        {
            "CALL_LOGS_API_URL": sim.url,
            "CALL_LOGS_API_KEY": sim.api_key,
            "CALL_LOGS_DATA_DIR": str(data_dir),
            "CALL_LOGS_START_DATE": START.isoformat(),
        }
    )
    lake = Lake(settings.lake_location)
    with make_client(settings) as client:
        report = extract_to_lake(settings, START, END, client=client, lake=lake, now=FROZEN_NOW)
    assert report.total("api_total") == report.total("verified_calls")
    warehouse = Warehouse(settings.warehouse_path)
    load_lake_into_warehouse(lake, warehouse, START, END)
    return warehouse


def same_value(got: object, want: object) -> bool:
    if isinstance(want, float):
        return isinstance(got, float) and math.isclose(
            got, want, rel_tol=TOLERANCE, abs_tol=TOLERANCE
        )
    return type(got) is type(want) and got == want


def assert_table_matches(
    actual: list[dict[str, Any]],
    expected: dict[Any, dict[str, Any]],
    keys: tuple[str, ...],
    what: str,
) -> None:
    got = {tuple(row[key] for key in keys): row for row in actual}
    assert len(got) == len(actual), f"{what}: duplicate keys"
    assert sorted(got) == sorted(expected), what
    for key, want in expected.items():
        row = got[key]
        # every column of the table is checked: keys by the lookup, the rest here
        assert set(row) == set(keys) | set(want), (what, sorted(set(row) ^ (set(keys) | set(want))))
        wrong = {
            column: (row[column], value)
            for column, value in want.items()
            if not same_value(row[column], value)
        }
        assert not wrong, (what, key, wrong)


@pytest.mark.parametrize("seed", SEEDS)
def test_sql_metrics_equal_a_python_computation_from_the_simulators_truth(
    tmp_path: Path, seed: int
) -> None:
    config = SimulatorConfig(seed=seed, now=FROZEN_NOW, history_days=4, calls_per_day=120)
    with SimulatorServer(config) as sim:
        warehouse = sync_three_days(sim, tmp_path)
        calls: list[Row] = []
        quarantined = 0
        for offset in range((END - START).days):
            day_calls, day_quarantined = truth_rows(sim, START + timedelta(days=offset))
            calls.extend(day_calls)
            quarantined += day_quarantined

    daily = warehouse.query("SELECT * FROM daily_assistant_metrics").to_pylist()
    sip = warehouse.query("SELECT * FROM sip_failures").to_pylist()
    want_daily = expected_daily(calls)
    want_sip = expected_sip_failures(calls)
    assert_table_matches(daily, want_daily, DAILY_KEYS, "daily_assistant_metrics")
    assert_table_matches(sip, want_sip, SIP_KEYS, "sip_failures")

    # The comparison covered what it is meant to: every day and assistant, the cut-off last day
    # with calls still in progress, SIP failures, and the quarantine the warehouse also made.
    assert {key[0] for key in want_daily} == {START + timedelta(days=d) for d in range(3)}
    in_progress_today = sum(
        row["in_progress_calls"] for key, row in want_daily.items() if key[0] == FROZEN_NOW.date()
    )
    assert in_progress_today > 0
    assert want_sip
    stored = warehouse.query("SELECT count(*) AS calls FROM call_logs")["calls"].to_pylist()
    assert stored == [len(calls)]
    rejected = warehouse.query("SELECT count(*) AS n FROM rejected_logs")["n"].to_pylist()
    assert rejected == [quarantined]
