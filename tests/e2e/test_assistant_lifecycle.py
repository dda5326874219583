"""Assistants that come, go and fail on their own, as a user runs `calllogs sync` every hour.

Real processes, the simulator on loopback, a real DuckDB file; every warehouse is compared with
the simulator's truth.
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

START = FROZEN_NOW.date() - timedelta(days=12)
HISTORY = FROZEN_NOW.replace(hour=0) - timedelta(days=12)
UNTIL = FROZEN_NOW + timedelta(hours=1)
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(
        seed=31, now=FROZEN_NOW, history_days=10, calls_per_day=30, assistants=3, api_key=SECRET_KEY
    )
    with SimulatorServer(config) as server:
        yield server


def env_for(sim: SimulatorServer, data: Path, ids: list[str] | None) -> dict[str, str]:
    extra = {"CALL_LOGS_START_DATE": START.isoformat(), "CALL_LOGS_RETRY_BUDGET_SECONDS": "5"}
    extra["CALL_LOGS_ASSISTANT_IDS"] = ",".join(ids) if ids else ""
    return base_env(sim, data, **extra)


def lines(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"calllogs: {word}:")]


def sync(env: dict[str, str], *args: str, expect: int = 0) -> tuple[str, str]:
    result = run(["sync", *args], env)
    assert result.returncode == expect, result.stderr[-3000:]
    for forbidden in ("Traceback", "Stack Trace", "STEP_FAILURE", SECRET_KEY):
        assert forbidden not in result.stdout + result.stderr
    return result.stdout, result.stderr


def call_log_requests(sim: SimulatorServer) -> int:
    return sim.stats()["call_log_requests"]


def test_an_assistant_added_to_the_configuration_gets_its_whole_history(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first, second, new = sim.assistant_ids
    sync(env_for(sim, data, [first, second]))
    assert_warehouse_equals_truth(data / "warehouse.duckdb", sim, HISTORY, UNTIL, [first, second])

    env = env_for(sim, data, [first, second, new])
    plan, _ = sync(env, "--dry-run")
    assert "run 2:" in plan and f"assistant {new}: never synced" in plan
    before = call_log_requests(sim)
    _, stderr = sync(env)
    assert_warehouse_equals_truth(data / "warehouse.duckdb", sim, HISTORY, UNTIL)
    assert lines(stderr, "error") == []
    # The new assistant's history plus the others' lookback, not everyone's history again.
    assert call_log_requests(sim) - before < 40


def test_an_assistant_found_by_discovery_gets_its_whole_history(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    env = env_for(sim, data, None)
    sync(env)
    new = sim.add_assistant()
    _, stderr = sync(env)
    assert lines(stderr, "error") == []
    assert new in sim.assistant_ids
    assert_warehouse_equals_truth(data / "warehouse.duckdb", sim, HISTORY, UNTIL)
    stored = warehouse_rows(
        data / "warehouse.duckdb",
        "SELECT min(call_date) FROM call_logs WHERE assistant_id = ?",
        [new],
    )[0][0]
    assert stored == HISTORY.date() + timedelta(days=2)  # its first simulated day, 10 days back


def test_an_assistant_deleted_on_the_platform_keeps_its_history_and_is_reported_once(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    env = env_for(sim, data, None)
    sync(env)
    gone = sim.assistant_ids[1]
    sim.delete_assistant(gone)
    _, stderr = sync(env)
    warnings = lines(stderr, "warning")
    assert len(warnings) == 1 and gone in warnings[0] and "no longer listed" in warnings[0]
    assert lines(stderr, "error") == []
    assert_warehouse_equals_truth(data / "warehouse.duckdb", sim, HISTORY, UNTIL)  # gone's too
    removed = warehouse_rows(
        data / "warehouse.duckdb",
        "SELECT removed_at IS NOT NULL FROM assistants WHERE assistant_id = ?",
        [gone],
    )
    assert removed == [(True,)]
    # The next sync neither warns again nor queries it.
    plan, _ = sync(env, "--dry-run")
    assert gone not in plan
    _, stderr = sync(env)
    assert lines(stderr, "warning") == [] and lines(stderr, "error") == []


def test_an_unknown_id_fails_alone_and_the_healthy_assistants_are_synced(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    healthy = sim.assistant_ids[:2]
    env = env_for(sim, data, [*healthy, UNKNOWN])
    _, stderr = sync(env, expect=1)
    errors = lines(stderr, "error")
    assert len(errors) == 1, stderr
    assert UNKNOWN in errors[0] and "404" in errors[0] and "CALL_LOGS_ASSISTANT_IDS" in errors[0]
    assert_warehouse_equals_truth(data / "warehouse.duckdb", sim, HISTORY, UNTIL, healthy)
    failed = warehouse_rows(
        data / "warehouse.duckdb",
        "SELECT count(*), any_value(error_kind) FROM sync_status "
        "WHERE assistant_id = ? AND status = 'failed'",
        [UNKNOWN],
    )
    assert failed[0][0] > 12 and failed[0][1] == "not_found"
    # The next plain sync retries it (and only it fails); the others stay exact.
    _, stderr = sync(env, expect=1)
    assert len(lines(stderr, "error")) == 1
    assert_warehouse_equals_truth(data / "warehouse.duckdb", sim, HISTORY, UNTIL, healthy)


def test_a_window_that_never_converges_fails_its_assistant_only(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    broken, *healthy = sim.assistant_ids
    poisoned_day = FROZEN_NOW.date() - timedelta(days=5)
    sim.add_phantom(broken, FROZEN_NOW.replace(hour=0) - timedelta(days=5) + timedelta(hours=9))
    env = env_for(sim, data, None)
    _, stderr = sync(env, expect=1)
    errors = lines(stderr, "error")
    assert len(errors) == 1 and broken in errors[0] and "never matched" in errors[0], stderr
    assert_warehouse_equals_truth(data / "warehouse.duckdb", sim, HISTORY, UNTIL, healthy)
    # Its days before the bad window are synced exactly; from there on they are marked failed.
    before_bad = FROZEN_NOW.replace(hour=0) - timedelta(days=6)
    assert_warehouse_equals_truth(data / "warehouse.duckdb", sim, HISTORY, before_bad, [broken])
    first_failed = warehouse_rows(
        data / "warehouse.duckdb",
        "SELECT min(call_date) FROM sync_status WHERE assistant_id = ? AND status = 'failed'",
        [broken],
    )[0][0]
    assert START <= first_failed <= poisoned_day
    # The next plain sync plans exactly those days again for it.
    plan, _ = sync(env, "--dry-run")
    assert f"{broken}:" in plan
    _, stderr = sync(env, expect=1)
    assert len(lines(stderr, "error")) == 1
