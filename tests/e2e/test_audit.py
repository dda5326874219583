"""`calllogs audit` over a real socket: late calls into old, finished days are found and synced.

A plain sync re-reads only its lookback (and days with calls in progress), so a call written into
a day ten days back is never seen by it; the audit compares the API's totals with the warehouse by
month, narrows the difference to that day and re-syncs it as a Dagster run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from simulator import SimulatorConfig, SimulatorServer
from tests.e2e.helpers import assert_warehouse_equals_truth, warehouse_rows
from tests.e2e.test_cli import SECRET_KEY, base_env, run
from tests.simulator_client import FROZEN_NOW

HISTORY = FROZEN_NOW.replace(hour=0) - timedelta(days=14)
UNTIL = FROZEN_NOW + timedelta(hours=1)
NOISE = ("Traceback", "Stack Trace", "STEP_FAILURE", SECRET_KEY)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(
        seed=8, now=FROZEN_NOW, history_days=14, calls_per_day=20, assistants=2, api_key=SECRET_KEY
    )
    with SimulatorServer(config) as server:
        yield server


def env_for(sim: SimulatorServer, data: Path) -> dict[str, str]:
    return base_env(
        sim,
        data,
        CALL_LOGS_START_DATE=HISTORY.date().isoformat(),
        CALL_LOGS_ASSISTANT_IDS=",".join(sim.assistant_ids),
    )


def calllogs(env: dict[str, str], *args: str, expect: int) -> tuple[str, str]:
    result = run(list(args), env)
    assert result.returncode == expect, result.stdout[-2000:] + result.stderr[-3000:]
    for noise in NOISE:
        assert noise not in result.stdout + result.stderr, f"{noise!r} in the output"
    return result.stdout, result.stderr


def stored_rooms(data: Path) -> set[str]:
    return {
        row[0]
        for row in warehouse_rows(data / "warehouse.duckdb", "SELECT room_name FROM call_logs")
    }


def test_a_late_call_into_an_old_day_is_found_and_synced_by_the_audit_only(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    env = env_for(sim, data)
    calllogs(env, "sync", expect=0)
    late_for, other = sim.assistant_ids
    late = sim.insert_late(late_for, days_ago=10)
    late_day = (FROZEN_NOW - timedelta(days=10)).date()
    assert late["started_at"].startswith(late_day.isoformat())

    calllogs(env, "sync", expect=0)  # the plain incremental sync does not see it
    assert late["room_name"] not in stored_rooms(data)

    out, err = calllogs(env, "audit", "--dry-run", expect=1)
    assert (
        f"differs: assistant {late_for} day {late_day}: API total" in out
        and "(1 call missing from the warehouse)" in out
    ), out
    assert f"compared: assistant {other}: " in out and ": match" in out
    assert err.splitlines() == [
        "calllogs: error: 1 day differs from the API (see above); run `calllogs audit` to "
        "re-sync it"
    ]
    assert late["room_name"] not in stored_rooms(data)  # a dry run changes nothing

    out, err = calllogs(env, "audit", expect=0)
    assert (
        f"re-syncing {late_day} .. {late_day + timedelta(days=1)} (1 day), assistant {late_for}"
        in out
    )
    assert out.splitlines()[-1].endswith("1 day differed, re-synced them: 1 now match"), out
    assert late["room_name"] in stored_rooms(data)
    assert_warehouse_equals_truth(data / "warehouse.duckdb", sim, HISTORY, UNTIL)

    out, _ = calllogs(env, "audit", "--since", late_day.isoformat(), expect=0)
    assert out.splitlines()[-1].endswith("everything matches"), out
