"""`calllogs` as a user runs it: real processes, the simulator on loopback, a real DuckDB file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from simulator import SimulatorConfig, SimulatorServer, parse_faults
from tests.e2e.helpers import assert_warehouse_equals_truth, warehouse_rows
from tests.simulator_client import FROZEN_NOW

CALLLOGS = str(Path(sys.executable).with_name("calllogs"))
SECRET_KEY = "sk-test-SECRET-9f8e7d6c5b4a"
START = (FROZEN_NOW - timedelta(days=3)).date()
END = FROZEN_NOW.date() + timedelta(days=1)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(
        seed=17,
        now=FROZEN_NOW,
        history_days=8,
        calls_per_day=70,
        api_key=SECRET_KEY,
        faults=parse_faults("429=0.04,500=0.03,502=0.01,503=0.01,truncate=0.01,drop=0.01"),
    )
    with SimulatorServer(config) as server:
        yield server


def run(
    args: list[str], env: dict[str, str], timeout: float = 240, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``calllogs ARGS`` in a directory of the test's own (no developer's ``.env`` leaks in)."""
    where = cwd or Path(env.get("CALL_LOGS_DATA_DIR", ".")).absolute().parent
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [CALLLOGS, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=where,
    )


def base_env(sim: SimulatorServer, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALL_LOGS_", "DAGSTER_"))}
    env.update(
        CALL_LOGS_API_URL=sim.url,
        CALL_LOGS_API_KEY=SECRET_KEY,
        CALL_LOGS_DATA_DIR=str(data_dir),
        CALL_LOGS_START_DATE="2026-11-01",
    )
    env.update(extra)
    return env


def scan_for_key(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and SECRET_KEY.encode() in path.read_bytes():
            found.append(str(path))
    return found


def test_sync_range_is_exact_recorded_in_dagster_and_leaks_no_key(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    result = run(
        ["sync", "--verbose", "--start", START.isoformat(), "--end", END.isoformat()],
        base_env(sim, data),
    )
    assert result.returncode == 0, result.stderr
    assert "Dagster run" in result.stdout
    assert "pipeline.client INFO retrying" in result.stderr  # the Python log, with faults, shown
    assert "(API total" in result.stderr  # a progress line per finished window
    assert "Traceback" not in result.stderr
    start = FROZEN_NOW.replace(hour=0) - timedelta(days=3)
    assert_warehouse_equals_truth(
        data / "warehouse.duckdb", sim, start, FROZEN_NOW + timedelta(hours=12)
    )
    runs = list((data / "dagster_home").rglob("*.db"))
    assert runs, "the run must be recorded in DAGSTER_HOME"
    assert SECRET_KEY not in result.stdout + result.stderr
    assert scan_for_key(data) == []
    assert (data.stat().st_mode & 0o077) == 0, "data dir must be owner-only"

    # `calllogs sql` reads the same warehouse.
    query = run(["sql", "SELECT count(*) AS n FROM call_logs"], base_env(sim, data))
    assert query.returncode == 0, query.stderr
    stored = warehouse_rows(data / "warehouse.duckdb", "SELECT count(*) FROM call_logs")[0][0]
    assert str(stored) in query.stdout

    # The incremental sync afterwards re-reads only the lookback, not history.
    plan = run(["sync", "--dry-run"], base_env(sim, data))
    assert plan.returncode == 0, plan.stderr
    assert "lookback" in plan.stdout


@pytest.mark.parametrize(
    ("args", "env_extra", "expected"),
    [
        (["sync", "--start", "2026-11-20", "--end", "2026-11-19"], {}, "must be after"),
        (["sync", "--start", "2026-13-01", "--end", "2026-11-19"], {}, "not a date"),
        (
            ["sync", "--start", "2026-11-18", "--end", "2026-11-19"],
            {"CALL_LOGS_ASSISTANT_IDS": "../../etc/passwd"},
            "not a UUID",
        ),
        (
            ["sync", "--start", "2026-11-18", "--end", "2026-11-19"],
            {"CALL_LOGS_CONCURRENCY": "abc"},
            "CALL_LOGS_CONCURRENCY",
        ),
        (["sync", "--start", "2026-11-18"], {}, "both --start and --end"),
        (["sql", "SELECT 1"], {}, "no warehouse at"),
    ],
)
def test_bad_input_ends_in_one_clear_line(
    sim: SimulatorServer, tmp_path: Path, args: list[str], env_extra: dict[str, str], expected: str
) -> None:
    """Failures of the input itself; failures of the API and the platform: test_cli_failures."""
    result = run(args, base_env(sim, tmp_path / "data", **env_extra), timeout=120)
    assert result.returncode == (2 if "not a date" in expected else 1)  # 2: a usage error
    (line,) = result.stderr.splitlines()
    assert line.startswith("calllogs: error: ") and expected in line, result.stderr
    for noise in ("Traceback", "Stack Trace", "STEP_FAILURE", "RUN_FAILURE", SECRET_KEY):
        assert noise not in result.stdout + result.stderr
