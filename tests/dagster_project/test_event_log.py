"""The batching event log stores what Dagster's own SQLite event log stores, in fewer writes."""

# No `from __future__ import annotations`: Dagster reads the context annotation at definition.
import sqlite3
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.event_api import EventLogRecord
from dagster._serdes import deserialize_value

from dagster_project.event_log import BatchingSqliteEventLogStorage
from dagster_project.instance_home import (
    DEFAULT_DAGSTER_YAML,
    EARLIER_DEFAULTS,
    seed_dagster_yaml,
)
from dagster_project.runner import describe_instance
from pipeline.config import Settings

# Tags whose values derive from the run (its id), so differ between any two runs.
RUN_DERIVED_TAGS = ("dagster/data_version", "dagster/input_data_version", "dagster/input_event")
DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-01-08")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def calls(context: dg.AssetExecutionContext) -> dg.MaterializeResult[None]:
    for key in context.partition_keys:
        context.add_asset_metadata({"calls": dg.MetadataValue.int(len(key))}, partition_key=key)
    return dg.MaterializeResult(metadata={"loaded": dg.MetadataValue.int(7)})


@dg.asset(partitions_def=DAYS, deps=[calls], backfill_policy=dg.BackfillPolicy.single_run())
def metrics(context: dg.AssetExecutionContext) -> dg.MaterializeResult[None]:
    return dg.MaterializeResult(
        metadata={"rows": dg.MetadataValue.int(len(context.partition_keys))}
    )


def home_with(tmp_path: Path, name: str, storage: str) -> Path:
    home = tmp_path / name
    home.mkdir()
    (home / "dagster.yaml").write_text(storage, encoding="utf-8")
    return home


def run_range(home: Path, monkeypatch: pytest.MonkeyPatch) -> dg.DagsterInstance:
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = dg.DagsterInstance.get()
    result = dg.materialize(
        [calls, metrics],
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "2026-01-01",
            "dagster/asset_partition_range_end": "2026-01-07",
        },
    )
    assert result.success
    return instance


def index_rows(home: Path) -> dict[str, Any]:
    """What the index shard holds, without ids and times (they differ between any two runs)."""
    con = sqlite3.connect(home / "history" / "runs" / "index.db")
    try:
        return {
            "events": sorted(
                con.execute(
                    "SELECT dagster_event_type, asset_key, partition, step_key FROM event_logs"
                ).fetchall()
            ),
            "asset_keys": sorted(con.execute("SELECT asset_key FROM asset_keys").fetchall()),
            "asset_entries": asset_entries(con),
            "tags": sorted(
                (asset, key, "<per run>" if key.startswith(RUN_DERIVED_TAGS) else value)
                for asset, key, value in con.execute(
                    "SELECT asset_key, key, value FROM asset_event_tags"
                ).fetchall()
            ),
        }
    finally:
        con.close()


def asset_entries(con: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """Each asset key's row: its last materialisation (the newest one, and its partition), that
    the last run and time are set, and the time equals the newest event's that sets it."""
    out = []
    rows = con.execute(
        "SELECT asset_key, last_materialization, last_run_id, last_materialization_timestamp "
        "FROM asset_keys"
    ).fetchall()
    for asset_key, last, run_id, stamp in rows:
        newest = con.execute(
            "SELECT max(id) FROM event_logs WHERE asset_key = ? "
            "AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            [asset_key],
        ).fetchone()
        newest_time = con.execute(
            "SELECT max(timestamp) FROM event_logs WHERE asset_key = ?", [asset_key]
        ).fetchone()
        record = deserialize_value(last, EventLogRecord) if last else None
        dagster_event = None if record is None else record.event_log_entry.dagster_event
        partition = None if dagster_event is None else dagster_event.partition
        out.append(
            (
                asset_key,
                partition,
                record is not None and newest is not None and record.storage_id == newest[0],
                run_id is not None,
                newest_time is not None and stamp == newest_time[0],
            )
        )
    return sorted(out)


BATCHING = """
event_log_storage:
  module: dagster_project.event_log
  class: BatchingSqliteEventLogStorage
  config:
    dagster_home:
      env: DAGSTER_HOME
"""


def test_a_range_run_stores_the_same_events_as_dagsters_sqlite_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "10000")
    plain_home = home_with(tmp_path, "plain", "telemetry:\n  enabled: false\n")
    plain = run_range(plain_home, monkeypatch)
    batching_home = home_with(tmp_path, "batching", BATCHING + "telemetry:\n  enabled: false\n")
    batching = run_range(batching_home, monkeypatch)

    assert isinstance(batching.event_log_storage, BatchingSqliteEventLogStorage)
    assert index_rows(batching_home) == index_rows(plain_home)
    for instance in (plain, batching):
        key = dg.AssetKey("calls")
        assert instance.get_materialized_partitions(key) == {f"2026-01-0{d}" for d in range(1, 8)}
        latest = instance.get_latest_materialization_event(key)
        assert latest is not None and latest.asset_materialization is not None
        assert latest.asset_materialization.metadata["calls"] == dg.MetadataValue.int(10)


def test_it_writes_a_batch_in_one_transaction_per_shard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "10000")
    home = home_with(tmp_path, "batching", BATCHING)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = dg.DagsterInstance.from_config(str(home))
    storage = instance.event_log_storage
    assert isinstance(storage, BatchingSqliteEventLogStorage)
    singles: list[Any] = []
    batches: list[int] = []
    monkeypatch.setattr(storage, "store_event", singles.append)
    original = BatchingSqliteEventLogStorage.store_event_batch

    def counting(self: BatchingSqliteEventLogStorage, events: Any) -> None:
        batches.append(len(events))
        original(self, events)

    monkeypatch.setattr(BatchingSqliteEventLogStorage, "store_event_batch", counting)
    dg.materialize(
        [calls, metrics],
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "2026-01-01",
            "dagster/asset_partition_range_end": "2026-01-07",
        },
    )
    # 2 assets x 7 days (the range is inclusive) planned in one batch; each asset's 7
    # materialisations in another
    assert sorted(batches) == [7, 7, 14]
    assert not any(
        event.dagster_event_type in {"ASSET_MATERIALIZATION", "ASSET_MATERIALIZATION_PLANNED"}
        for event in singles
        if event.is_dagster_event
    )


def test_a_new_or_unedited_home_gets_the_current_defaults_an_edited_one_is_kept(
    tmp_path: Path,
) -> None:
    current = DEFAULT_DAGSTER_YAML.read_text(encoding="utf-8")
    assert "BatchingSqliteEventLogStorage" in current

    new = seed_dagster_yaml(tmp_path / "new")
    assert new.read_text(encoding="utf-8") == current

    earlier = tmp_path / "earlier"
    earlier.mkdir()
    old_text = (Path(__file__).parent / "earlier_dagster.yaml").read_text(encoding="utf-8")
    (earlier / "dagster.yaml").write_text(old_text, encoding="utf-8")
    assert seed_dagster_yaml(earlier).read_text(encoding="utf-8") == current

    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "dagster.yaml").write_text(old_text + "# mine\n", encoding="utf-8")
    assert seed_dagster_yaml(edited).read_text(encoding="utf-8") == old_text + "# mine\n"
    assert len(EARLIER_DEFAULTS) == 1


def test_doctor_says_when_an_edited_home_writes_events_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.from_env({"CALL_LOGS_DATA_DIR": str(tmp_path / "data")})
    edited = tmp_path / "edited"
    edited.mkdir()
    old_text = (Path(__file__).parent / "earlier_dagster.yaml").read_text(encoding="utf-8")
    (edited / "dagster.yaml").write_text(old_text + "# mine\n", encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(edited))
    ok, said = describe_instance(settings)
    assert ok and "writes events one by one" in said

    current = tmp_path / "current"
    seed_dagster_yaml(current)
    monkeypatch.setenv("DAGSTER_HOME", str(current))
    ok, said = describe_instance(settings)
    assert ok and "one by one" not in said
