"""Reliability: late data, SIGKILL at random moments, concurrent syncs — always exact."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from simulator import SimulatorConfig, SimulatorServer, parse_faults
from tests.e2e.helpers import assert_warehouse_equals_truth
from tests.e2e.test_cli import CALLLOGS, END, START, base_env, run
from tests.simulator_client import FROZEN_NOW

DAY0 = FROZEN_NOW.replace(hour=0) - timedelta(days=3)


def make_sim(seed: int, **overrides: object) -> SimulatorServer:
    settings: dict[str, object] = {
        "seed": seed,
        "now": FROZEN_NOW,
        "history_days": 8,
        "calls_per_day": 120,
        "api_key": "sk-test-SECRET-9f8e7d6c5b4a",
        **overrides,
    }
    return SimulatorServer(SimulatorConfig(**settings))  # type: ignore[arg-type]


@pytest.fixture
def slow_sim() -> Iterator[SimulatorServer]:
    with make_sim(23, latency_ms=15, faults=parse_faults("429=0.03,500=0.03,drop=0.01")) as sim:
        yield sim


def visible_temp_files(lake: Path) -> list[Path]:
    return [p for p in lake.rglob("*.parquet") if p.name != "part-0.parquet"]


# Where a kill lands, named by the progress line it follows: the plan is printed (nothing written
# yet), the n-th window is in the lake, extraction is done (the warehouse step is next), the
# warehouse is loaded (the checks and Dagster's bookkeeping are next).
KILL_POINTS = ("plan: ", "assistant ", "synced ", "warehouse: ")


def kill_on_progress(process: subprocess.Popen[str], point: str, nth: int) -> bool:
    """SIGKILL right after the ``nth`` stderr line starting with ``point``; False if it ended
    first. Triggered by what the sync has done, not by a clock, so it lands in the same phase on
    a fast machine and a slow one."""
    assert process.stderr is not None
    seen = 0
    for line in process.stderr:
        seen += line.startswith(point)
        if seen >= nth:
            process.send_signal(signal.SIGKILL)
            return True
    return False


def kill_and_rerun(sim: SimulatorServer, data: Path, kills: int, rng: random.Random) -> int:
    """``kills`` syncs killed at random progress points, then one to the end; the kills landed."""
    landed = 0
    env = base_env(sim, data)
    args = ["sync", "--start", START.isoformat(), "--end", END.isoformat()]
    for _ in range(kills):
        process = subprocess.Popen(
            [CALLLOGS, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        watchdog = threading.Timer(120, process.kill)  # a hung sync must not hang the suite
        watchdog.start()
        try:
            point = rng.choice(KILL_POINTS)
            landed += kill_on_progress(
                process, point, rng.randint(1, 8) if point == "assistant " else 1
            )
            process.wait(timeout=30)
        finally:
            watchdog.cancel()
            if process.stderr is not None:
                process.stderr.close()
        assert visible_temp_files(data / "lake") == [] if (data / "lake").exists() else True
    final = run(args, env)
    assert final.returncode == 0, final.stderr
    duckdb.connect(str(data / "warehouse.duckdb"), read_only=True).close()
    assert visible_temp_files(data / "lake") == []
    assert_warehouse_equals_truth(
        data / "warehouse.duckdb", sim, DAY0, FROZEN_NOW + timedelta(hours=12)
    )
    return landed


def test_sigkill_at_random_moments_then_rerun_is_exact(
    slow_sim: SimulatorServer, tmp_path: Path
) -> None:
    assert kill_and_rerun(slow_sim, tmp_path / "data", kills=2, rng=random.Random(5)) == 2


def test_late_and_finishing_calls_are_caught_by_the_plain_incremental_sync(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with make_sim(29, late_rate=0.1) as sim:
        env = base_env(sim, data)
        first = run(["sync", "--start", START.isoformat(), "--end", END.isoformat()], env)
        assert first.returncode == 0, first.stderr
        sim.advance(8 * 3600)  # open calls finish, late calls appear, new calls arrive
        again = run(["sync"], env)
        assert again.returncode == 0, again.stderr
        assert "lookback" in again.stderr
        assert_warehouse_equals_truth(data / "warehouse.duckdb", sim, DAY0, sim.now())


def test_concurrent_syncs_neither_fail_nor_corrupt(tmp_path: Path) -> None:
    """Four single-day runs at once plus one range run over the same days: all succeed, exactly."""
    data = tmp_path / "data"
    with make_sim(31) as sim:
        env = base_env(sim, data)
        days = [START + timedelta(days=i) for i in range(4)]
        commands = [
            ["sync", "--start", day.isoformat(), "--end", (day + timedelta(days=1)).isoformat()]
            for day in days
        ]
        commands.append(["sync", "--start", START.isoformat(), "--end", END.isoformat()])
        processes = [
            subprocess.Popen(
                [CALLLOGS, *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in commands
        ]
        outcomes = [p.communicate(timeout=300) for p in processes]
        for process, (_, stderr) in zip(processes, outcomes, strict=True):
            assert process.returncode == 0, stderr
            assert "lock" not in stderr.lower()
        assert visible_temp_files(data / "lake") == []
        assert_warehouse_equals_truth(
            data / "warehouse.duckdb", sim, DAY0, FROZEN_NOW + timedelta(hours=12)
        )


def test_a_run_killed_while_holding_pool_slots_does_not_block_the_next(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with make_sim(37, latency_ms=150) as sim:
        env = base_env(sim, data)
        args = ["sync", "--start", START.isoformat(), "--end", END.isoformat()]
        process = subprocess.Popen(
            [CALLLOGS, *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("assistant "):  # extraction under way: the API pool slot is held
                break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        again = run(args, env, timeout=150)
        assert again.returncode == 0, again.stderr
        assert "marked run" in again.stderr
        assert_warehouse_equals_truth(
            data / "warehouse.duckdb", sim, DAY0, FROZEN_NOW + timedelta(hours=12)
        )


@pytest.mark.soak
@pytest.mark.parametrize("seed", range(40, 46))
def test_soak_kills_and_faults_across_seeds(seed: int, tmp_path: Path) -> None:
    faults = parse_faults("429=0.04,500=0.03,502=0.01,503=0.01,truncate=0.01,drop=0.01,slow=0.01")
    kills = 5
    with make_sim(seed, latency_ms=10, faults=faults, tie_burst_rate=0.08) as sim:
        landed = kill_and_rerun(sim, tmp_path / "data", kills=kills, rng=random.Random(seed))
        calls = assert_warehouse_equals_truth(
            tmp_path / "data" / "warehouse.duckdb", sim, DAY0, FROZEN_NOW + timedelta(hours=12)
        )
        stats = sim.stats()
    print(
        f"\nSOAK seed={seed} kills={landed}/{kills} calls={calls} requests={stats['requests']} "
        f"faults={stats['faults_total']} lost=0 duplicated=0 stale=0"
    )
