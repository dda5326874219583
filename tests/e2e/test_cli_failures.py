"""Every failure a user can meet ends in one line per problem: what happened, what to do.

Real processes against the simulator on loopback. Each case asserts the exit code, the exact
lines on stderr (problem lines and progress lines told apart), and that neither a stack trace nor
Dagster's event dump nor the key appears anywhere.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulator import SimulatorConfig, SimulatorServer
from tests.e2e.test_cli import SECRET_KEY, base_env, run
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


def test_a_record_the_platform_cannot_serve_fails_its_assistant_with_fitting_advice(
    tmp_path: Path,
) -> None:
    config = SimulatorConfig(
        seed=6, now=FROZEN_NOW, history_days=4, calls_per_day=40, assistants=2, api_key=SECRET_KEY
    )
    with SimulatorServer(config) as sim:
        broken, healthy = sim.assistant_ids
        sim.poison_call(broken, POISON_AT)
        env = base_env(sim, tmp_path / "data", CALL_LOGS_RETRY_BUDGET_SECONDS="4")
        result = run(RANGE, env)
    assert result.returncode == 1
    assert_quiet(result.stdout, result.stderr)
    lines = said(result.stderr)
    assert lines.other == []
    error, details = lines.problems
    assert broken in error and healthy not in error
    assert "500 Internal Server Error: 1 validation error for CallRecord call_status" in error
    assert "report it to the platform" in error and "try again later" not in error
    assert details.startswith("calllogs: details: 1 Dagster run ")
    assert any(line.startswith(f"assistant {healthy} day 2026-11-18") for line in lines.progress)


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
