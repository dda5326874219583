"""Every data-quality check, passing on a clean warehouse and failing on the fault it guards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline import checks
from pipeline.checks import CheckOutcome
from pipeline.warehouse import Warehouse
from tests.warehouse_fixtures import ASSISTANT_A, ASSISTANT_B, DAY_1, random_load

SYNCED = datetime(2025, 3, 2, 6, tzinfo=UTC)
NOW = SYNCED + timedelta(hours=1)


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    store = Warehouse(tmp_path / "warehouse.duckdb")
    store.ensure_schema()
    store.load_partitions([random_load(1, DAY_1, ASSISTANT_A), random_load(2, DAY_1, ASSISTANT_B)])
    tamper(store, "UPDATE sync_state SET synced_at = ?", [SYNCED])
    # Calls still in progress are part of the fixture; age them only where a test wants it.
    tamper(
        store, "UPDATE call_logs SET is_final = true, call_status = 'completed' WHERE NOT is_final"
    )
    return store


def tamper(store: Warehouse, sql: str, params: list[object] | None = None) -> None:
    con = duckdb.connect(str(store.path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(sql, params or [])
    finally:
        con.close()


def drop_constraints(store: Warehouse) -> None:
    """Rebuild call_logs without its key constraint, so the checks' own guard can be exercised."""
    tamper(store, "CREATE TABLE loose AS SELECT * FROM call_logs")
    tamper(store, "DROP TABLE call_logs")
    tamper(store, "ALTER TABLE loose RENAME TO call_logs")


ALL: dict[str, Callable[[Warehouse], CheckOutcome]] = {
    **checks.WAREHOUSE_CHECKS,
    "reconciliation": lambda w: checks.reconciliation(w, DAY_1, DAY_1 + timedelta(days=1)),
    "freshness": lambda w: checks.freshness(w, max_age=timedelta(hours=3), now=NOW),
    "stale_non_final": lambda w: checks.stale_non_final(w, older_than=timedelta(hours=6), now=NOW),
}


def test_every_check_passes_on_a_clean_warehouse(warehouse: Warehouse) -> None:
    outcomes = {name: check(warehouse) for name, check in ALL.items()}
    assert {name: o.passed for name, o in outcomes.items()} == dict.fromkeys(ALL, True)
    assert "2 partitions" in outcomes["reconciliation"].description
    assert checks.schema_drift([]).passed


def test_duplicate_room_name_fails(warehouse: Warehouse) -> None:
    drop_constraints(warehouse)
    tamper(warehouse, "INSERT INTO call_logs SELECT * FROM call_logs LIMIT 2")
    outcome = checks.unique_room_name(warehouse)
    assert not outcome.passed and outcome.failing == 2 and not outcome.warn_only


def test_null_key_fails(warehouse: Warehouse) -> None:
    drop_constraints(warehouse)
    tamper(warehouse, "UPDATE call_logs SET assistant_id = NULL WHERE rowid = 0")
    outcome = checks.no_null_keys(warehouse)
    assert not outcome.passed and outcome.failing == 1


def test_unknown_status_only_warns(warehouse: Warehouse) -> None:
    tamper(warehouse, "UPDATE call_logs SET call_status = 'voicemail' WHERE rowid < 3")
    outcome = checks.known_call_status(warehouse)
    assert not outcome.passed and outcome.warn_only
    assert outcome.sample[0]["call_status"] == "voicemail"


def test_call_ending_before_it_starts_fails(warehouse: Warehouse) -> None:
    tamper(
        warehouse, "UPDATE call_logs SET ended_at = started_at - INTERVAL 1 MINUTE WHERE rowid = 0"
    )
    outcome = checks.ended_after_started(warehouse)
    assert not outcome.passed and outcome.failing == 1


def test_reconciliation_fails_when_rows_go_missing(warehouse: Warehouse) -> None:
    tamper(warehouse, "DELETE FROM call_logs WHERE rowid = 0")
    outcome = ALL["reconciliation"](warehouse)
    assert not outcome.passed and outcome.failing == 1
    assert "rerun the sync" in outcome.description


def test_schema_drift_warns_with_the_new_fields() -> None:
    outcome = checks.schema_drift({"sentiment_score", "agent_mood"})
    assert not outcome.passed and outcome.warn_only
    assert "agent_mood, sentiment_score" in outcome.description


def test_freshness_warns_when_no_recent_sync(warehouse: Warehouse) -> None:
    outcome = checks.freshness(warehouse, max_age=timedelta(hours=3), now=NOW + timedelta(days=1))
    assert not outcome.passed and outcome.warn_only


def test_stale_non_final_calls_warn(warehouse: Warehouse) -> None:
    tamper(
        warehouse,
        "UPDATE call_logs SET is_final = false, call_status = 'initiated' WHERE rowid = 0",
    )
    outcome = ALL["stale_non_final"](warehouse)
    assert not outcome.passed and outcome.warn_only and outcome.failing == 1
