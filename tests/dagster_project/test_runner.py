"""A command that starts several Dagster runs opens the instance once and disposes of it after."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from simulator import SimulatorConfig, SimulatorServer
from tests.e2e.helpers import assert_warehouse_equals_truth
from tests.e2e.test_cli import SECRET_KEY, base_env
from tests.simulator_client import FROZEN_NOW

START = FROZEN_NOW.date() - timedelta(days=6)
HISTORY = FROZEN_NOW.replace(hour=0) - timedelta(days=6)
UNTIL = FROZEN_NOW + timedelta(hours=1)

# `calllogs sync` in a process of its own, counting the instances it opens and disposes of.
COUNTING_SYNC = """
import sys
import dagster as dg
import dagster_project.runner as runner
opened, disposed = [], []
real_open, real_dispose = runner.open_instance, dg.DagsterInstance.dispose
def counting_open(home):
    opened.append(home)
    return real_open(home)
def counting_dispose(self):
    disposed.append(self)
    real_dispose(self)
runner.open_instance = counting_open
dg.DagsterInstance.dispose = counting_dispose
from dagster_project.cli.main import main
code = main(["sync"])
print(f"opened {len(opened)} disposed {len(disposed)}")
sys.exit(code)
"""


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(
        seed=17, now=FROZEN_NOW, history_days=5, calls_per_day=20, assistants=3, api_key=SECRET_KEY
    )
    with SimulatorServer(config) as server:
        yield server


def counting_sync(env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", COUNTING_SYNC],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_a_sync_of_two_runs_opens_the_instance_once(
    sim: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    first, second, new = sim.assistant_ids
    extra = {"CALL_LOGS_START_DATE": START.isoformat(), "DAGSTER_HOME": str(tmp_path / "home")}
    assert "opened 1 disposed 1" in counting_sync(
        base_env(sim, data, CALL_LOGS_ASSISTANT_IDS=f"{first},{second}", **extra), tmp_path
    )

    # A new assistant: its whole history is a run of its own, the others' lookback another.
    env = base_env(sim, data, CALL_LOGS_ASSISTANT_IDS=f"{first},{second},{new}", **extra)
    output = counting_sync(env, tmp_path)

    assert "opened 1 disposed 1" in output
    assert_warehouse_equals_truth(data / "warehouse.duckdb", sim, HISTORY, UNTIL)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))  # its event log's config reads it
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        runs = instance.get_runs()
    assert len(runs) == 3
    assert {run.status for run in runs} == {dg.DagsterRunStatus.SUCCESS}
