"""The warehouse replaces whole partitions exactly, in one transaction, one writer at a time."""

from __future__ import annotations

import json
import logging
import multiprocessing
import random
import stat
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipeline.errors import WarehouseError
from pipeline.schemas import CALL_LOGS_SCHEMA, REJECTED_LOGS_SCHEMA, TRANSCRIPTS_SCHEMA
from pipeline.sqlfiles import read_sql, sql_files
from pipeline.warehouse import LoadStats, PartitionLoad, Warehouse
from tests.warehouse_fixtures import (
    ASSISTANT_A,
    ASSISTANT_B,
    DAY_1,
    DAY_2,
    DAY_3,
    FETCHED_AT,
    WAREHOUSE_TABLES,
    call_logs_table,
    call_row,
    hold_warehouse_in_child,
    load_rounds_in_child,
    midnight,
    partition_load,
    random_calls,
    random_load,
    rows_of,
    rows_outside,
    snapshot,
    sorted_table,
)

SPAWN = multiprocessing.get_context("spawn")
MALICIOUS = "x'; DROP TABLE call_logs; --"


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "data" / "warehouse.duckdb", lock_timeout_s=30.0)


def three_partitions(seed: int = 7) -> list[PartitionLoad]:
    return [
        random_load(seed, DAY_1, ASSISTANT_A),
        random_load(seed, DAY_2, ASSISTANT_A),
        random_load(seed, DAY_1, ASSISTANT_B),
    ]


def test_every_sql_file_holds_exactly_one_statement() -> None:
    for folder in ("schema", "load", "metrics", "views"):
        names = sql_files(folder)
        assert names, folder
        for name in names:
            assert len(duckdb.extract_statements(read_sql(name))) == 1, name


def test_ensure_schema_is_idempotent(warehouse: Warehouse) -> None:
    warehouse.ensure_schema()
    columns_sql = (
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
    )
    first = sorted_table(warehouse.query(columns_sql))
    warehouse.ensure_schema()
    warehouse.load_partitions(three_partitions())
    counts = warehouse.table_counts()
    warehouse.ensure_schema()

    assert sorted_table(warehouse.query(columns_sql)).equals(first)
    assert warehouse.table_counts() == counts
    names = set(warehouse.query("SHOW TABLES")["name"].to_pylist())
    assert set(WAREHOUSE_TABLES) | {"hourly_answer_rate", "number_attempts"} <= names
    assert {"calls_in_progress", "table_row_counts"} <= names


def test_parent_directory_is_created_owner_only(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "new" / "deeper" / "warehouse.duckdb")
    warehouse.ensure_schema()
    mode = stat.S_IMODE((tmp_path / "new" / "deeper").stat().st_mode)
    assert mode == 0o700


def test_timestamps_and_json_are_stored_typed_and_read_back_in_utc(warehouse: Warehouse) -> None:
    warehouse.load_partitions(three_partitions())
    columns = warehouse.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'call_logs'"
    ).to_pylist()
    types = {row["column_name"]: row["data_type"] for row in columns}
    assert types["started_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["extra"] == "JSON"
    table = warehouse.query("SELECT started_at FROM call_logs LIMIT 1")
    assert table.schema.field("started_at").type == pa.timestamp("us", tz="UTC")
    hour = warehouse.query("SELECT strftime(TIMESTAMPTZ '2025-03-01 10:00:00+02', '%H') AS h")
    assert hour["h"].to_pylist() == ["08"]


def test_reloading_the_same_partitions_leaves_every_table_unchanged(
    warehouse: Warehouse,
) -> None:
    loads = three_partitions()
    warehouse.load_partitions(loads)
    before = snapshot(warehouse)
    synced_before = warehouse.sync_state()["synced_at"].to_pylist()

    stats = warehouse.load_partitions(loads)

    after = snapshot(warehouse)
    for name in WAREHOUSE_TABLES:
        assert after[name].equals(before[name]), name
    assert stats.partitions == 3
    assert stats.calls == sum(load.call_logs.num_rows for load in loads)
    assert stats.utterances == sum(load.transcripts.num_rows for load in loads)
    assert stats.rejected == sum(load.rejected_logs.num_rows for load in loads)
    synced_after = warehouse.sync_state()["synced_at"].to_pylist()
    assert all(b >= a for a, b in zip(synced_before, synced_after, strict=True))


LATER = FETCHED_AT + timedelta(days=1, hours=3)
CONTENT_TABLES = (
    "call_logs",
    "transcripts",
    "rejected_logs",
    "daily_assistant_metrics",
    "sip_failures",
)


def fetched_again(load: PartitionLoad, fetched_at: datetime) -> PartitionLoad:
    """``load`` as a later sync delivers it: the same records, every fetched_at set anew."""

    def restamped(table: pa.Table) -> pa.Table:
        column = pa.array([fetched_at] * table.num_rows, table.schema.field("fetched_at").type)
        return table.set_column(
            table.schema.get_field_index("fetched_at"), table.schema.field("fetched_at"), column
        )

    return replace(
        load, call_logs=restamped(load.call_logs), rejected_logs=restamped(load.rejected_logs)
    )


def rejected_rows(
    load: PartitionLoad, raws_and_reasons: list[tuple[str, str]], fetched_at: datetime
) -> PartitionLoad:
    """``load`` with exactly these rejected records (duplicates allowed), fetched at fetched_at."""
    rows = [
        {
            "assistant_id": load.assistant_id,
            "call_date": load.call_date,
            "reason": reason,
            "raw": raw,
            "fetched_at": fetched_at,
        }
        for raw, reason in raws_and_reasons
    ]
    return replace(load, rejected_logs=pa.Table.from_pylist(rows, schema=REJECTED_LOGS_SCHEMA))


def with_call_changed(load: PartitionLoad, index: int, **changes: object) -> PartitionLoad:
    rows = load.call_logs.to_pylist()
    rows[index] = {**rows[index], **changes}
    return replace(load, call_logs=pa.Table.from_pylist(rows, schema=load.call_logs.schema))


def fetched_at_by_room(warehouse: Warehouse) -> dict[str, datetime]:
    rows = warehouse.query("SELECT room_name, fetched_at FROM call_logs").to_pylist()
    return {row["room_name"]: row["fetched_at"] for row in rows}


def test_resyncing_unchanged_partitions_later_leaves_every_table_exactly_equal(
    warehouse: Warehouse,
) -> None:
    twin = json.dumps({"room_name": "twin", "started_at": None})
    loads = three_partitions()
    loads[2] = rejected_rows(
        loads[2],
        [
            (twin, "started_at is missing"),
            (twin, "started_at is missing"),
            ("[1]", "not an object"),
        ],
        FETCHED_AT,
    )
    warehouse.load_partitions(loads)
    before = snapshot(warehouse)
    assert set(before["call_logs"]["fetched_at"].to_pylist()) == {FETCHED_AT}
    assert before["rejected_logs"].num_rows == 5

    warehouse.load_partitions([fetched_again(load, LATER) for load in loads])

    after = snapshot(warehouse)
    for name in CONTENT_TABLES:
        assert after[name].to_pylist() == before[name].to_pylist(), name
        assert after[name].equals(before[name]), name
    assert set(after["rejected_logs"]["fetched_at"].to_pylist()) == {FETCHED_AT}
    # sync_state: only synced_at (bookkeeping, excluded from the snapshot) may move.
    assert after["sync_state"].equals(before["sync_state"])


def test_a_changed_call_gets_the_new_fetched_at_and_only_its_days_metrics_change(
    warehouse: Warehouse,
) -> None:
    loads = three_partitions()
    warehouse.load_partitions(loads)
    before = snapshot(warehouse)
    day_2 = loads[1]
    index = next(
        i for i, status in enumerate(day_2.call_logs["call_status"].to_pylist()) if status != "busy"
    )
    changed_room = day_2.call_logs["room_name"][index].as_py()
    resynced = [fetched_again(load, LATER) for load in loads]
    resynced[1] = with_call_changed(resynced[1], index, call_status="busy", is_final=True)

    warehouse.load_partitions(resynced)

    after = snapshot(warehouse)
    fetched = fetched_at_by_room(warehouse)
    assert fetched.pop(changed_room) == LATER
    assert set(fetched.values()) == {FETCHED_AT}
    (call,) = [row for row in after["call_logs"].to_pylist() if row["room_name"] == changed_room]
    assert call["call_status"] == "busy"
    for name in CONTENT_TABLES:
        assert rows_outside(after[name], DAY_2, ASSISTANT_A).equals(
            rows_outside(before[name], DAY_2, ASSISTANT_A)
        ), name
    (old_metrics,) = rows_of(before["daily_assistant_metrics"], DAY_2, ASSISTANT_A).to_pylist()
    (new_metrics,) = rows_of(after["daily_assistant_metrics"], DAY_2, ASSISTANT_A).to_pylist()
    assert new_metrics["busy"] == old_metrics["busy"] + 1
    assert rows_of(after["transcripts"], DAY_2, ASSISTANT_A).equals(
        rows_of(before["transcripts"], DAY_2, ASSISTANT_A)
    )
    unchanged_calls = [
        row for row in after["call_logs"].to_pylist() if row["room_name"] != changed_room
    ]
    assert unchanged_calls == [
        row for row in before["call_logs"].to_pylist() if row["room_name"] != changed_room
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"extra": json.dumps({"recording_egress_id": "EG_2"})},
        {"extra": None},
        {"answered_at": midnight(DAY_1) + timedelta(hours=10, seconds=3)},
        {"sip_status_code": 486},
        {"call_duration_minutes": 2.5000001},
        {"transcript_turns": 7},
        {"to_number": None},
    ],
    ids=lambda changes: next(iter(changes)),
)
def test_any_column_change_including_to_or_from_null_counts_as_a_new_version(
    warehouse: Warehouse, changes: dict[str, object]
) -> None:
    started = midnight(DAY_1) + timedelta(hours=10)
    calls = [
        call_row("kept", ASSISTANT_A, started, status="busy", to_number=None, extra={}),
        call_row("edited", ASSISTANT_A, started, status="busy", duration=2.5),
    ]
    load = partition_load(DAY_1, ASSISTANT_A, calls)
    warehouse.load_partitions([load])

    warehouse.load_partitions([with_call_changed(fetched_again(load, LATER), 1, **changes)])

    assert fetched_at_by_room(warehouse) == {"kept": FETCHED_AT, "edited": LATER}


def test_rejected_records_keep_their_fetched_at_as_a_multiset(warehouse: Warehouse) -> None:
    twin = json.dumps({"room_name": "twin", "started_at": None})
    other = json.dumps({"room_name": "other", "started_at": "soon"})
    load = random_load(3, DAY_1, ASSISTANT_A)
    missing, bad = "started_at is missing", "started_at is not a timestamp"
    warehouse.load_partitions([rejected_rows(load, [(twin, missing), (other, bad)], FETCHED_AT)])

    # A third copy of twin arrives, other's reason changes, one new record appears.
    warehouse.load_partitions(
        [
            rejected_rows(
                load,
                [(twin, missing), (twin, missing), (other, missing), ("[]", bad)],
                LATER,
            )
        ]
    )

    stored = warehouse.query("SELECT raw::VARCHAR AS raw, reason, fetched_at FROM rejected_logs")
    assert sorted(
        (row["raw"], row["reason"], row["fetched_at"]) for row in stored.to_pylist()
    ) == sorted(
        [
            (twin, missing, FETCHED_AT),
            (twin, missing, LATER),
            (other, missing, LATER),
            ("[]", bad, LATER),
        ]
    )


def test_the_stored_rows_are_exactly_the_loaded_arrow_rows(warehouse: Warehouse) -> None:
    loads = three_partitions()
    warehouse.load_partitions(loads)
    stored = warehouse.query("SELECT * FROM call_logs")
    expected = pa.concat_tables([load.call_logs for load in loads])
    assert sorted_table(stored.cast(expected.schema)).equals(sorted_table(expected))
    stored_turns = warehouse.query("SELECT * FROM transcripts")
    expected_turns = pa.concat_tables([load.transcripts for load in loads])
    assert sorted_table(stored_turns.cast(expected_turns.schema)).equals(
        sorted_table(expected_turns)
    )


def test_replacing_one_partition_changes_only_that_partitions_rows(
    warehouse: Warehouse,
) -> None:
    warehouse.load_partitions(three_partitions())
    before = snapshot(warehouse)
    replacement = random_load(99, DAY_2, ASSISTANT_A, count=25)

    warehouse.load_partitions([replacement])

    after = snapshot(warehouse)
    for name in WAREHOUSE_TABLES:
        assert rows_outside(after[name], DAY_2, ASSISTANT_A).equals(
            rows_outside(before[name], DAY_2, ASSISTANT_A)
        ), name
    new_calls = rows_of(after["call_logs"], DAY_2, ASSISTANT_A)
    assert sorted(new_calls["room_name"].to_pylist()) == sorted(
        replacement.call_logs["room_name"].to_pylist()
    )
    metrics = rows_of(after["daily_assistant_metrics"], DAY_2, ASSISTANT_A).to_pylist()
    assert [row["calls"] for row in metrics] == [25]
    assert not rows_of(after["daily_assistant_metrics"], DAY_2, ASSISTANT_A).equals(
        rows_of(before["daily_assistant_metrics"], DAY_2, ASSISTANT_A)
    )


def test_a_status_change_updates_exactly_that_days_rows(warehouse: Warehouse) -> None:
    start = midnight(DAY_2) + timedelta(hours=23, minutes=59)
    in_progress = call_row(
        "room-late", ASSISTANT_A, start, status="answered", answered_at=start + timedelta(seconds=4)
    )
    day_1 = random_load(3, DAY_1, ASSISTANT_A)
    warehouse.load_partitions([day_1, partition_load(DAY_2, ASSISTANT_A, [in_progress])])
    before = snapshot(warehouse)
    assert rows_of(before["sync_state"], DAY_2, ASSISTANT_A)["non_final_calls"].to_pylist() == [1]

    finished = {
        **in_progress,
        "call_status": "completed",
        "is_final": True,
        "ended_at": start + timedelta(minutes=5),
        "call_duration_minutes": 4.9,
    }
    warehouse.load_partitions([partition_load(DAY_2, ASSISTANT_A, [finished])])

    after = snapshot(warehouse)
    for name in WAREHOUSE_TABLES:
        assert rows_outside(after[name], DAY_2, ASSISTANT_A).equals(
            rows_outside(before[name], DAY_2, ASSISTANT_A)
        ), name
    (call,) = rows_of(after["call_logs"], DAY_2, ASSISTANT_A).to_pylist()
    assert (call["call_status"], call["is_final"]) == ("completed", True)
    (metrics,) = rows_of(after["daily_assistant_metrics"], DAY_2, ASSISTANT_A).to_pylist()
    assert (metrics["in_progress_calls"], metrics["completed_calls"]) == (0, 1)
    assert metrics["talk_minutes"] == pytest.approx(4.9)
    assert rows_of(after["sync_state"], DAY_2, ASSISTANT_A)["non_final_calls"].to_pylist() == [0]
    assert warehouse.query("SELECT count(*) AS n FROM calls_in_progress")["n"].to_pylist() == [
        sum(1 for c in day_1.call_logs["is_final"].to_pylist() if not c)
    ]


def test_a_partition_reloaded_without_calls_keeps_no_metric_rows(warehouse: Warehouse) -> None:
    warehouse.load_partitions(three_partitions())
    warehouse.load_partitions([partition_load(DAY_1, ASSISTANT_B, [], rejected=2)])
    after = snapshot(warehouse)
    assert rows_of(after["call_logs"], DAY_1, ASSISTANT_B).num_rows == 0
    assert rows_of(after["transcripts"], DAY_1, ASSISTANT_B).num_rows == 0
    assert rows_of(after["daily_assistant_metrics"], DAY_1, ASSISTANT_B).num_rows == 0
    assert rows_of(after["sip_failures"], DAY_1, ASSISTANT_B).num_rows == 0
    (state,) = rows_of(after["sync_state"], DAY_1, ASSISTANT_B).to_pylist()
    assert (state["api_total"], state["verified_calls"], state["rejected_rows"]) == (2, 0, 2)


def test_sync_state_records_each_partitions_window_and_counts(warehouse: Warehouse) -> None:
    assert warehouse.sync_state().num_rows == 0
    load = replace(random_load(5, DAY_3, ASSISTANT_B), requests=17, api_total=1234)
    warehouse.load_partitions([load])
    (state,) = warehouse.sync_state().to_pylist()
    non_final = sum(1 for final in load.call_logs["is_final"].to_pylist() if not final)
    assert state["assistant_id"] == ASSISTANT_B
    assert state["call_date"] == DAY_3
    assert state["window_end"] == midnight(DAY_3 + timedelta(days=1))
    assert (state["api_total"], state["verified_calls"], state["requests"]) == (1234, 40, 17)
    assert (state["non_final_calls"], state["rejected_rows"]) == (non_final, 5 % 3)
    assert state["synced_at"].tzinfo is not None


def test_a_partition_listed_twice_is_loaded_once_with_its_last_version(
    warehouse: Warehouse,
) -> None:
    stats = warehouse.load_partitions(
        [random_load(1, DAY_1, ASSISTANT_A), random_load(2, DAY_1, ASSISTANT_A, count=10)]
    )
    assert stats.partitions == 1
    assert warehouse.table_counts()["call_logs"] == 10


def test_a_malicious_string_lands_as_data(warehouse: Warehouse) -> None:
    started = midnight(DAY_1) + timedelta(hours=9)
    row = call_row(
        MALICIOUS,
        MALICIOUS,
        started,
        to_number=MALICIOUS,
        assistant_name=MALICIOUS,
        sip_code=486,
        sip_text=MALICIOUS,
        turns=1,
        extra={"note": MALICIOUS},
    )
    warehouse.load_partitions([partition_load(DAY_1, MALICIOUS, [row], rejected=1)])

    stored = warehouse.query(
        "SELECT room_name, assistant_id, to_number, extra->>'note' AS note FROM call_logs"
    ).to_pylist()
    assert stored == [
        {
            "room_name": MALICIOUS,
            "assistant_id": MALICIOUS,
            "to_number": MALICIOUS,
            "note": MALICIOUS,
        }
    ]
    counts = warehouse.table_counts()
    assert counts["call_logs"] == 1 and counts["transcripts"] == 1
    assert counts["daily_assistant_metrics"] == 1 and counts["sync_state"] == 1
    texts = warehouse.query("SELECT sip_status_text FROM sip_failures")
    assert texts["sip_status_text"].to_pylist() == [MALICIOUS]
    by_param = warehouse.query(
        "SELECT count(*) AS n FROM call_logs WHERE assistant_id = ?", [MALICIOUS]
    )
    assert by_param["n"].to_pylist() == [1]


def test_rows_of_another_partition_are_refused_and_nothing_changes(
    warehouse: Warehouse,
) -> None:
    warehouse.load_partitions(three_partitions())
    before = snapshot(warehouse)
    stray = random_calls(random.Random(1), DAY_3, ASSISTANT_A, 3)
    bad = replace(random_load(4, DAY_1, ASSISTANT_A), call_logs=call_logs_table(stray))
    with pytest.raises(WarehouseError, match="another partition"):
        warehouse.load_partitions([random_load(8, DAY_2, ASSISTANT_B), bad])
    after = snapshot(warehouse)
    for name in WAREHOUSE_TABLES:
        assert after[name].equals(before[name]), name


def test_a_failing_load_rolls_back_the_whole_transaction(warehouse: Warehouse) -> None:
    warehouse.load_partitions(three_partitions())
    before = snapshot(warehouse)
    taken = before["call_logs"]["room_name"][0].as_py()
    clash = call_row(taken, ASSISTANT_B, midnight(DAY_3) + timedelta(hours=1))
    with pytest.raises(WarehouseError, match="room_name"):
        warehouse.load_partitions(
            [random_load(11, DAY_2, ASSISTANT_B), partition_load(DAY_3, ASSISTANT_B, [clash])]
        )
    after = snapshot(warehouse)
    for name in WAREHOUSE_TABLES:
        assert after[name].equals(before[name]), name


def test_naive_window_end_is_refused(warehouse: Warehouse) -> None:
    load = replace(random_load(1, DAY_1, ASSISTANT_A), window_end=datetime(2025, 3, 2))
    with pytest.raises(WarehouseError, match="time zone"):
        warehouse.load_partitions([load])


def test_query_is_read_only_and_says_so(warehouse: Warehouse) -> None:
    warehouse.load_partitions(three_partitions())
    with pytest.raises(WarehouseError, match="read-only"):
        warehouse.query("DELETE FROM call_logs")
    assert warehouse.table_counts()["call_logs"] == 120


def test_query_takes_named_parameters(warehouse: Warehouse) -> None:
    warehouse.load_partitions(three_partitions())
    result = warehouse.query(
        "SELECT count(*) AS n FROM call_logs WHERE call_date = $day AND assistant_id = $who",
        {"day": DAY_1, "who": ASSISTANT_A},
    )
    assert result["n"].to_pylist() == [40]


def test_query_errors_name_the_file_and_a_hint(warehouse: Warehouse) -> None:
    warehouse.ensure_schema()
    with pytest.raises(WarehouseError) as caught:
        warehouse.query("SELECT * FROM no_such_table")
    message = str(caught.value)
    assert str(warehouse.path) in message and "no_such_table" in message
    assert "\n" not in message


def test_query_on_a_missing_warehouse_says_to_sync_first(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="calllogs sync"):
        Warehouse(tmp_path / "absent.duckdb").query("SELECT 1")


def test_reads_inside_reading_share_one_connection(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse.load_partitions(three_partitions())
    opened: list[bool] = []
    connect = duckdb.connect

    def counting(*args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        opened.append(bool(kwargs.get("read_only")))
        return connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("pipeline.warehouse.duckdb.connect", counting)
    with warehouse.reading():
        counts = warehouse.table_counts()
        with warehouse.reading():  # nested: still the same connection
            day = warehouse.query(
                "SELECT count(*) AS n FROM call_logs WHERE call_date = ?", [DAY_1]
            )
        state = warehouse.sync_state()
    assert opened == [True]
    assert counts["call_logs"] == 120 and day["n"].to_pylist() == [80]
    assert state.num_rows == 3
    warehouse.query("SELECT 1")  # after the block: a connection of its own again
    assert opened == [True, True]


def test_tables_given_to_a_query_do_not_outlive_it_in_a_shared_connection(
    warehouse: Warehouse,
) -> None:
    warehouse.ensure_schema()
    with warehouse.reading():
        given = warehouse.query("SELECT sum(x) AS s FROM t", tables={"t": pa.table({"x": [1, 2]})})
        assert given["s"].to_pylist() == [3]
        with pytest.raises(WarehouseError, match="t"):
            warehouse.query("SELECT * FROM t")


def test_a_write_inside_reading_fails_at_once_and_the_block_still_reads(
    warehouse: Warehouse,
) -> None:
    warehouse.load_partitions(three_partitions())
    slow = Warehouse(warehouse.path, lock_timeout_s=30.0)
    started = datetime.now(UTC)
    with slow.reading():
        with pytest.raises(WarehouseError, match="inside reading"):
            slow.load_partitions(three_partitions(seed=8))
        assert slow.table_counts()["call_logs"] == 120
    assert datetime.now(UTC) - started < timedelta(seconds=10)  # not the 30 s lock wait
    slow.load_partitions(three_partitions(seed=8))  # after the block it writes
    assert slow.table_counts()["call_logs"] == 120


def test_reading_a_missing_warehouse_says_to_sync_first(tmp_path: Path) -> None:
    absent = Warehouse(tmp_path / "absent.duckdb")
    with absent.reading(), pytest.raises(WarehouseError, match="calllogs sync"):
        absent.query("SELECT 1")
    assert not absent.path.exists()


# -- one writer at a time ---------------------------------------------------------------------


@pytest.fixture
def lock_holder(warehouse: Warehouse) -> Iterator[tuple[object, object]]:
    """A child process holding the warehouse open read-write until ``release`` is set."""
    warehouse.ensure_schema()
    held, release = SPAWN.Event(), SPAWN.Event()
    child = SPAWN.Process(target=hold_warehouse_in_child, args=(str(warehouse.path), held, release))
    child.start()
    try:
        assert held.wait(timeout=60), "the lock-holding child did not start"
        yield held, release
    finally:
        release.set()
        child.join(timeout=60)


def test_a_held_lock_fails_after_the_timeout_with_an_actionable_error(
    warehouse: Warehouse, lock_holder: tuple[object, object]
) -> None:
    impatient = Warehouse(warehouse.path, lock_timeout_s=0.3)
    with pytest.raises(WarehouseError, match=r"another process \(PID \d+\) holds the warehouse"):
        impatient.load_partitions(three_partitions())
    with pytest.raises(WarehouseError, match="wait for that sync"):
        impatient.query("SELECT 1")


class _SignalOnRecord(logging.Handler):
    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle = needle
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.seen.set()


def test_a_writer_waits_for_the_lock_and_then_loads(
    warehouse: Warehouse, lock_holder: tuple[object, object]
) -> None:
    _, release = lock_holder
    signal = _SignalOnRecord("is locked by another process")
    logger = logging.getLogger("pipeline.warehouse")
    logger.addHandler(signal)
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    outcome: list[object] = []
    loader = threading.Thread(
        target=lambda: outcome.append(warehouse.load_partitions(three_partitions()))
    )
    try:
        loader.start()
        assert signal.seen.wait(timeout=30), "the writer never reported waiting for the lock"
        release.set()  # type: ignore[attr-defined]
        loader.join(timeout=60)
    finally:
        logger.removeHandler(signal)
        logger.setLevel(previous_level)
    assert len(outcome) == 1
    assert warehouse.table_counts()["call_logs"] == 120


def test_two_processes_loading_concurrently_both_succeed_with_exact_data(
    warehouse: Warehouse,
) -> None:
    warehouse.ensure_schema()
    days = [DAY_1, DAY_2, DAY_3, DAY_1 - timedelta(days=1), DAY_1 - timedelta(days=2)]
    start = SPAWN.Barrier(2)
    children = [
        SPAWN.Process(
            target=load_rounds_in_child, args=(str(warehouse.path), 21, assistant, days, start)
        )
        for assistant in (ASSISTANT_A, ASSISTANT_B)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [child.exitcode for child in children] == [0, 0]

    reference = Warehouse(warehouse.path.with_name("reference.duckdb"))
    reference.load_partitions(
        [
            random_load(21, day, assistant)
            for assistant in (ASSISTANT_A, ASSISTANT_B)
            for day in days
        ]
    )
    assert warehouse.table_counts() == reference.table_counts()
    mine, expected = snapshot(warehouse), snapshot(reference)
    for name in WAREHOUSE_TABLES:
        assert mine[name].equals(expected[name]), name
    assert all(
        state["synced_at"] <= datetime.now(UTC) for state in warehouse.sync_state().to_pylist()
    )


def test_load_stats_summary_is_one_readable_line() -> None:
    stats = LoadStats(partitions=3, calls=120, utterances=600, rejected=2, seconds=1.234)
    assert stats.summary() == (
        "warehouse: loaded 3 partitions, 120 calls, 600 utterances, 2 rejected in 1.23s"
    )


def test_each_table_has_exactly_the_columns_of_its_arrow_schema(warehouse: Warehouse) -> None:
    """The load inserts BY NAME and compares with * EXCLUDE: the two column lists must agree."""
    warehouse.ensure_schema()
    for table, schema in (
        ("call_logs", CALL_LOGS_SCHEMA),
        ("transcripts", TRANSCRIPTS_SCHEMA),
        ("rejected_logs", REJECTED_LOGS_SCHEMA),
    ):
        described = warehouse.query(f"SELECT column_name FROM (DESCRIBE {table})")
        assert described.column("column_name").to_pylist() == schema.names, table
