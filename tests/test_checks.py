"""Every data-quality check, passing on a clean warehouse and failing on the fault it guards."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline import checks
from pipeline.checks import CheckOutcome
from pipeline.sqlfiles import read_sql
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


PARTITION_A = [(DAY_1, ASSISTANT_A)]


def run_checks(
    store: Warehouse, pairs: list[tuple[date, str]] | None = None
) -> dict[str, CheckOutcome]:
    """Every warehouse check of the registry, over ``pairs`` (default: both fixture partitions)."""
    partitions = checks.checked_partitions(
        store, DAY_1, DAY_1 + timedelta(days=1), None if pairs is None else pairs
    )
    found = {o.name: o for o in checks.sql_checks(store, partitions, stale_after=STALE, now=NOW)}
    found["reconciliation"] = checks.reconciliation(store, partitions)
    found["calls_readable"] = checks.calls_readable(store, partitions)
    return found


STALE = timedelta(hours=6)


def test_the_registry_describes_every_check_and_names_real_sql() -> None:
    names = [check.name for check in checks.REGISTRY]
    assert len(names) == len(set(names))
    for check in checks.REGISTRY:
        assert check.description and check.asset in {"raw_call_logs", "call_logs"}
        if check.sql is not None:
            assert read_sql(check.sql).strip() and "checked_partitions" in read_sql(check.sql)
            assert "{n}" in check.bad and check.ok
    # guarded by the table's own constraints (PRIMARY KEY, NOT NULL), so they could never fail
    assert not {"unique_room_name", "no_null_keys"} & set(names)


def test_every_check_passes_on_a_clean_warehouse(warehouse: Warehouse) -> None:
    outcomes = run_checks(warehouse)
    assert {name: o.passed for name, o in outcomes.items()} == dict.fromkeys(outcomes, True)
    assert set(outcomes) == {c.name for c in checks.checks_of("call_logs")}
    assert "2 partitions" in outcomes["reconciliation"].description
    assert checks.schema_drift([]).passed


def test_unknown_status_only_warns(warehouse: Warehouse) -> None:
    tamper(warehouse, "UPDATE call_logs SET call_status = 'voicemail' WHERE rowid < 3")
    outcome = run_checks(warehouse)["known_call_status"]
    assert not outcome.passed and outcome.warn_only
    assert outcome.sample[0]["call_status"] == "voicemail"


def test_call_ending_before_it_starts_fails(warehouse: Warehouse) -> None:
    tamper(
        warehouse, "UPDATE call_logs SET ended_at = started_at - INTERVAL 1 MINUTE WHERE rowid = 0"
    )
    outcome = run_checks(warehouse)["ended_after_started"]
    assert not outcome.passed and outcome.failing == 1 and not outcome.warn_only


def test_checks_look_only_at_the_runs_partitions(warehouse: Warehouse) -> None:
    tamper(
        warehouse,
        "UPDATE call_logs SET ended_at = started_at - INTERVAL 1 MINUTE, call_status = 'voicemail' "
        "WHERE assistant_id = ?",
        [ASSISTANT_B],
    )
    assert not run_checks(warehouse)["ended_after_started"].passed
    of_a = run_checks(warehouse, PARTITION_A)
    assert of_a["ended_after_started"].passed and of_a["known_call_status"].passed
    assert "1 partition" in of_a["reconciliation"].description


def test_reconciliation_fails_when_rows_go_missing(warehouse: Warehouse) -> None:
    tamper(warehouse, "DELETE FROM call_logs WHERE rowid = 0")
    outcome = run_checks(warehouse)["reconciliation"]
    assert not outcome.passed and outcome.failing == 1
    assert "rerun the sync" in outcome.description


def test_schema_drift_warns_with_the_new_fields() -> None:
    outcome = checks.schema_drift({"sentiment_score", "agent_mood"})
    assert not outcome.passed and outcome.warn_only
    assert "agent_mood, sentiment_score" in outcome.description


def test_stale_non_final_calls_warn(warehouse: Warehouse) -> None:
    tamper(
        warehouse,
        "UPDATE call_logs SET is_final = false, call_status = 'initiated' WHERE rowid = 0",
    )
    outcome = run_checks(warehouse)["stale_non_final"]
    assert not outcome.passed and outcome.warn_only and outcome.failing == 1
    assert "after 6:00:00" in outcome.description
