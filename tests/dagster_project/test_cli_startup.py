"""A sync process never imports pandas, and pandas still works when it is asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from simulator import SimulatorConfig, SimulatorServer
from tests.simulator_client import FROZEN_NOW

CALLLOGS = str(Path(sys.executable).with_name("calllogs"))

IN_PROCESS = """
import sys
from datetime import date, datetime, timezone
from dagster_project.cli.startup import skip_pandas_probe
skip_pandas_probe()
import dagster_project.definitions
from pipeline.normalize import normalize_records
record = {"room_name": "r1", "started_at": "2026-11-30T10:00:00Z", "call_status": "completed",
          "transcripts": [{"speaker": "agent", "text": "hi", "timestamp": "2026-11-30T10:00:01Z"}]}
batch = normalize_records([record], assistant_id="a", fallback_day=date(2026, 11, 30),
                          fetched_at=datetime.now(timezone.utc))
assert batch.call_logs.num_rows == 1 and batch.transcripts.num_rows == 1
assert "pandas" not in sys.modules, "pandas was imported"
import pyarrow as pa
frame = batch.call_logs.to_pandas()  # asked for: pyarrow imports pandas now
assert "pandas" in sys.modules and list(frame["room_name"]) == ["r1"]
assert pa.array(frame["room_name"]).to_pylist() == ["r1"]  # and takes pandas objects again
print("ok")
"""


def test_the_probe_keeps_pandas_out_until_it_is_asked_for() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IN_PROCESS], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_probe_leaves_an_imported_pandas_alone() -> None:
    code = (
        "import pandas, sys\n"
        "from dagster_project.cli.startup import skip_pandas_probe\n"
        "skip_pandas_probe()\n"
        "import pyarrow as pa\n"
        "assert pa.array(pandas.Series([1, 2])).to_pylist() == [1, 2]\n"
        "assert not any(type(f).__name__ == '_NoPandas' for f in sys.meta_path)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(seed=5, now=FROZEN_NOW, history_days=2, calls_per_day=30)
    with SimulatorServer(config) as server:
        yield server


def test_a_cli_sync_imports_no_pandas(sim: SimulatorServer, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALL_LOGS_", "DAGSTER_"))}
    env.update(
        CALL_LOGS_API_URL=sim.url,
        CALL_LOGS_API_KEY=sim.api_key,
        CALL_LOGS_DATA_DIR=str(tmp_path / "data"),
        PYTHONPROFILEIMPORTTIME="1",  # every import, one line each on stderr
    )
    day = (FROZEN_NOW - timedelta(days=1)).date()
    result = subprocess.run(
        [CALLLOGS, "sync", "--start", day.isoformat(), "--end", (day + timedelta(1)).isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert "duckdb" in imported and "dagster" in imported  # the log is there
    # A real pandas import brings its submodules; the probe's held-back attempt has none.
    assert not [name for name in imported if name.startswith("pandas.")]
