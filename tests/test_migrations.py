"""A warehouse made before wave 2 is migrated in place to exactly what a fresh load makes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.normalize.promote import promote_fields
from pipeline.schemas import PROMOTED_FIELDS
from pipeline.warehouse import Warehouse
from tests.warehouse_fixtures import (
    ASSISTANT_A,
    ASSISTANT_B,
    DAY_1,
    DAY_2,
    partition_load,
    random_calls,
    snapshot,
)

WAVE2_METRIC_COLUMNS = (
    "outbound_calls",
    "outbound_answered_calls",
    "outbound_answer_rate",
    "inbound_calls",
    "web_calls",
    "billable_minutes",
    "agent_never_ready_calls",
    "p50_seconds_to_agent_ready",
    "p90_seconds_to_agent_ready",
)
WAVE2_TABLES = ("call_end_reasons", "call_transcript_stats", "call_status_history")


def loaded_warehouse(path: Path) -> Warehouse:
    rng = random.Random(11)
    warehouse = Warehouse(path)
    warehouse.load_partitions(
        [
            partition_load(day, who, random_calls(rng, day, who, 60))
            for day in (DAY_1, DAY_2)
            for who in (ASSISTANT_A, ASSISTANT_B)
        ]
    )
    return warehouse


def make_it_old(path: Path) -> None:
    """What a warehouse of the first wave held: the promoted fields inside extra, no wave-2
    columns or tables (values that are not set were never sent, so they are left out)."""
    con = duckdb.connect(str(path))
    try:
        rows = con.execute(
            f"SELECT room_name, CAST(extra AS VARCHAR), {', '.join(PROMOTED_FIELDS)} FROM call_logs"
        ).fetchall()
        for room, extra, *values in rows:
            merged = json.loads(extra)
            for name, value in zip(PROMOTED_FIELDS, values, strict=True):
                if value is not None:
                    merged[name] = value.isoformat() if hasattr(value, "isoformat") else value
            con.execute(
                "UPDATE call_logs SET extra = ? WHERE room_name = ?",
                [json.dumps(merged, sort_keys=True, separators=(",", ":")), room],
            )
        for name in PROMOTED_FIELDS:
            con.execute(f"ALTER TABLE call_logs DROP COLUMN {name}")
        for name in WAVE2_METRIC_COLUMNS:
            con.execute(f"ALTER TABLE daily_assistant_metrics DROP COLUMN {name}")
        for name in WAVE2_TABLES:
            con.execute(f"DROP TABLE {name}")
    finally:
        con.close()


def test_an_old_warehouse_is_migrated_to_what_a_fresh_load_makes(tmp_path: Path) -> None:
    fresh = snapshot(loaded_warehouse(tmp_path / "fresh.duckdb"))
    old_path = tmp_path / "old.duckdb"
    loaded_warehouse(old_path)
    make_it_old(old_path)
    assert "call_type" not in Warehouse(old_path).query("SELECT * FROM call_logs").column_names

    migrated = Warehouse(old_path)
    migrated.ensure_schema()

    after = snapshot(migrated)
    for table in ("call_logs", "daily_assistant_metrics", "call_end_reasons"):
        assert after[table].equals(fresh[table]), table
    assert after["call_transcript_stats"].equals(fresh["call_transcript_stats"])
    # a fresh load saw each call once, at its fetched_at: the seed says just that
    assert after["call_status_history"].equals(fresh["call_status_history"])
    migrated.ensure_schema()  # applied once: the second time finds nothing to do
    assert snapshot(migrated)["call_logs"].equals(after["call_logs"])


def test_promoting_a_value_that_does_not_fit_keeps_it_under_uncoerced() -> None:
    extra = pa.array(
        [
            '{"call_type":"inbound","is_passthrough":"yes","note":1}',
            '{"agent_ready_at":"2026-05-01T10:00:00.5Z"}',
            "{}",
            None,
            "[1,2]",
        ]
    )
    columns, left = promote_fields(extra)
    assert columns["call_type"].to_pylist() == ["inbound", None, None, None, None]
    assert columns["is_passthrough"].to_pylist() == [None] * 5
    assert columns["agent_ready_at"][1].as_py().isoformat() == "2026-05-01T10:00:00.500000+00:00"
    assert left.to_pylist() == [
        '{"_uncoerced":{"is_passthrough":"yes"},"note":1}',
        "{}",
        "{}",
        None,
        "[1,2]",  # not an object: the normaliser never writes one, and it is left as it is
    ]
