"""Every failure a user can meet ends in one line per problem: what happened, what to do.

Real processes against the simulator on loopback. Each case asserts the exit code, the exact
lines on stderr (problem lines and progress lines told apart), and that neither a stack trace nor
Dagster's event dump nor the key appears anywhere.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from simulator import SimulatorConfig, SimulatorServer
from tests.e2e.helpers import assert_warehouse_equals_truth, truth_calls, warehouse_rows
from tests.e2e.test_cli import CALLLOGS, SECRET_KEY, base_env, run
from tests.simulator_client import FROZEN_NOW

RANGE = ["sync", "--start", "2026-11-18", "--end", "2026-11-19"]
UNKNOWN = "00000000-0000-4000-8000-000000000000"
POISON_AT = datetime(2026, 11, 18, 10, 0, 0, 321_000, tzinfo=UTC)
NOISE = ("Traceback", "Stack Trace", "STEP_FAILURE", "RUN_FAILURE", SECRET_KEY, "wrong-key")
# What a sync prints while it works (plan, per-window, overall and summary lines).
PROGRESS = re.compile(
    r"^(plan: |  run \d+: |    [0-9a-f-]{36}: |assistant \S+ day |progress: |synced |warehouse: )"
)


@dataclass(frozen=True)
class Said:
    """stderr split into the problem lines (``calllogs: …``) and the progress lines."""

    problems: list[str]
    progress: list[str]
    other: list[str]


def said(stderr: str) -> Said:
    problems, progress, other = [], [], []
    for line in stderr.splitlines():
        if line.startswith("calllogs: "):
            problems.append(line)
        elif PROGRESS.match(line):
            progress.append(line)
        else:
            other.append(line)
    return Said(problems, progress, other)


def assert_quiet(stdout: str, stderr: str) -> None:
    for noise in NOISE:
        assert noise not in stdout + stderr, f"{noise!r} in the output:\n{stderr[-2000:]}"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(
        seed=5, now=FROZEN_NOW, history_days=4, calls_per_day=40, assistants=2, api_key=SECRET_KEY
    )
    with SimulatorServer(config) as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_wrong_key_is_one_line(sim: SimulatorServer, tmp_path: Path) -> None:
    result = run(RANGE, base_env(sim, tmp_path / "data", CALL_LOGS_API_KEY="wrong-key"))
    assert result.returncode == 1
    assert_quiet(result.stdout, result.stderr)
    assert result.stderr.splitlines() == [
        "calllogs: error: the API refused the key (401 Invalid or inactive API key); "
        "check CALL_LOGS_API_KEY"
    ]


def test_a_wrong_key_with_configured_ids_is_one_problem_and_the_run_to_look_at(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    env = base_env(
        sim,
        tmp_path / "data",
        CALL_LOGS_API_KEY="wrong-key",
        CALL_LOGS_ASSISTANT_IDS=sim.assistant_ids[0],
    )
    result = run(RANGE, env)
    assert result.returncode == 1
    assert_quiet(result.stdout, result.stderr)
    lines = said(result.stderr)
    assert lines.other == [] and len(lines.progress) == 3  # the plan: summary, run, assistant
    error, details = lines.problems
    assert error.startswith("calllogs: error: ") and "check CALL_LOGS_API_KEY" in error
    assert re.match(r"calllogs: details: 1 Dagster run [0-9a-f-]{36} in .+dagster_home", details)
    assert "--verbose" in details


def test_an_unknown_assistant_is_one_line_naming_it(sim: SimulatorServer, tmp_path: Path) -> None:
    result = run(RANGE, base_env(sim, tmp_path / "data", CALL_LOGS_ASSISTANT_IDS=UNKNOWN))
    assert result.returncode == 1
    assert_quiet(result.stdout, result.stderr)
    lines = said(result.stderr)
    assert lines.other == []
    assert len(lines.progress) == 5  # 3 plan lines, extraction summary, warehouse summary
    error, details = lines.problems
    assert UNKNOWN in error and "404" in error and "CALL_LOGS_ASSISTANT_IDS" in error
    assert details.startswith("calllogs: details: 1 Dagster run ")


@pytest.mark.parametrize("where", ["refused", "dns"])
def test_an_unreachable_api_is_one_line_within_seconds(
    sim: SimulatorServer, tmp_path: Path, closed_port: int, where: str
) -> None:
    url = f"http://127.0.0.1:{closed_port}" if where == "refused" else "http://no-such-host.invalid"
    address = f"127.0.0.1:{closed_port}" if where == "refused" else "no-such-host.invalid:80"
    started = time.monotonic()
    result = run(RANGE, base_env(sim, tmp_path / "data", CALL_LOGS_API_URL=url))
    took = time.monotonic() - started
    assert result.returncode == 1
    assert_quiet(result.stdout, result.stderr)
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"calllogs: error: cannot connect to the API at {address} ")
    assert line.endswith("check CALL_LOGS_API_URL and that the platform is up")
    assert "CALL_LOGS_CONCURRENCY" not in line
    assert took < 25, f"{took:.1f}s"  # a ~10 s connect budget plus the process's start


def test_records_the_platform_cannot_serve_are_isolated_and_everything_else_is_synced(
    tmp_path: Path,
) -> None:
    config = SimulatorConfig(
        seed=6, now=FROZEN_NOW, history_days=4, calls_per_day=40, assistants=2, api_key=SECRET_KEY
    )
    day_start, day_end = (
        POISON_AT.replace(hour=0, microsecond=0),
        POISON_AT.replace(hour=0, microsecond=0) + timedelta(days=1),
    )
    later = POISON_AT + timedelta(hours=5, milliseconds=77)
    with SimulatorServer(config) as sim:
        broken, healthy = sim.assistant_ids
        sim.insert_call(broken, POISON_AT)  # a readable call in the poisoned record's millisecond
        poisoned = [sim.poison_call(broken, moment) for moment in (POISON_AT, later)]
        data = tmp_path / "data"
        ids = f"{broken},{healthy}"
        env = base_env(sim, data, CALL_LOGS_RETRY_BUDGET_SECONDS="4", CALL_LOGS_ASSISTANT_IDS=ids)
        result = run(RANGE, env)
        assert result.returncode == 1, result.stderr
        assert_quiet(result.stdout, result.stderr)
        lines = said(result.stderr)
        assert lines.other == []
        problem, details = lines.problems
        assert problem == (
            f"calllogs: error: 2 calls of assistant {broken} in 2 windows between "
            "2026-11-18T10:00:00.321Z and 2026-11-18T15:00:00.399Z cannot be read: the API "
            "answers 500 for them every time; everything else is synced (kept in "
            "unreadable_windows; the next `calllogs sync` tries them again — report them to the "
            "platform if they persist)"
        )
        assert details.startswith("calllogs: details: 1 Dagster run ")
        warehouse = data / "warehouse.duckdb"
        rooms = {p["room_name"] for p in poisoned}
        truth, _ = truth_calls(sim, day_start, day_end)
        stored = warehouse_rows(
            warehouse,
            "SELECT room_name FROM call_logs WHERE started_at >= ? AND started_at < ?",
            [day_start, day_end],
        )
        assert {row[0] for row in stored} == set(truth) - rooms  # every other call, exactly
        windows = warehouse_rows(
            warehouse,
            "SELECT window_start, window_end, api_count FROM unreadable_windows ORDER BY 1",
        )
        assert [(start, end - start, n) for start, end, n in windows] == [
            (moment, timedelta(milliseconds=1), 1) for moment in (POISON_AT, later)
        ]
        assert warehouse_rows(
            warehouse,
            "SELECT status, unreadable_calls FROM sync_status WHERE assistant_id = ?",
            [broken],
        ) == [("unreadable", 2)]

        for record in poisoned:  # the platform fixes the records; the next sync reads them
            assert sim.cure(record["room_name"])
        healed = run(RANGE, env)
        assert healed.returncode == 0, healed.stderr
        assert_quiet(healed.stdout, healed.stderr)
        assert warehouse_rows(warehouse, "SELECT count(*) FROM unreadable_windows") == [(0,)]
        assert_warehouse_equals_truth(warehouse, sim, day_start, day_end)


def test_verbose_shows_the_details_the_one_line_leaves_out(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    env = base_env(sim, tmp_path / "data", CALL_LOGS_ASSISTANT_IDS=UNKNOWN)
    result = run([*RANGE, "--verbose"], env)
    assert result.returncode == 1
    assert_quiet(result.stdout, result.stderr)
    lines = said(result.stderr)
    assert len(lines.problems) == 2
    assert any(UNKNOWN in line and "INFO" in line for line in lines.other)  # the request log


def test_a_reader_that_stops_early_is_not_an_error(tmp_path: Path) -> None:
    """`calllogs settings | head -1`: the pipe closes before everything is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes a line
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALL_LOGS_", "DAGSTER_"))}
    env["CALL_LOGS_DATA_DIR"] = str(tmp_path / "data")
    try:
        finished = subprocess.run(
            [CALLLOGS, "settings"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert finished.stderr == ""
    assert finished.returncode == 141
