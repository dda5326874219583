"""The Parquet lake: exact round trips, atomic and idempotent replacement, crash safety, errors."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from pipeline.errors import LakeError
from pipeline.lake import FILE_NAME, Lake
from pipeline.normalize import NormalizedBatch, normalize_records
from pipeline.schemas import CALL_LOGS_SCHEMA, PROMOTED_FIELDS, REJECTED_LOGS_SCHEMA

ASSISTANT = "550e8400-e29b-41d4-a716-446655440000"
OTHER_ASSISTANT = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
DAY = date(2026, 5, 1)
NEXT_DAY = date(2026, 5, 2)
FETCHED = datetime(2026, 5, 2, 3, 0, tzinfo=UTC)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def batch_of(*rooms: str, day: date = DAY, status: str = "completed") -> NormalizedBatch:
    records = [
        {
            "room_name": room,
            "started_at": f"{day.isoformat()}T10:00:0{index % 10}Z",
            "call_status": status,
            "transcripts": [{"speaker": "user", "text": f"hello from {room}"}],
            "usage": {"estimated_cost_usd": "0.01"},
        }
        for index, room in enumerate(rooms)
    ]
    return normalize_records(records, assistant_id=ASSISTANT, fallback_day=day, fetched_at=FETCHED)


def calls_of(*rooms: str, day: date = DAY, status: str = "completed") -> pa.Table:
    return batch_of(*rooms, day=day, status=status).call_logs


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(str(tmp_path / "lake"))


def partition_dir(tmp_path: Path, table: str = "call_logs", day: date = DAY) -> Path:
    return tmp_path / "lake" / table / f"call_date={day}" / f"assistant_id={ASSISTANT}"


# --- layout and round trip -------------------------------------------------------------------


def test_a_partition_is_one_zstd_file_at_the_hive_path(lake: Lake, tmp_path: Path) -> None:
    path = lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("a", "b"))
    expected = partition_dir(tmp_path) / FILE_NAME
    assert path == str(expected)
    assert sorted(os.listdir(expected.parent)) == [FILE_NAME]
    metadata = pq.ParquetFile(expected).metadata
    assert metadata.num_rows == 2
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert "call_date" not in metadata.schema.names  # lives in the path


def test_write_batch_keeps_only_the_rows_of_its_day(lake: Lake) -> None:
    batch = normalize_records(
        [
            {"room_name": "today", "started_at": "2026-05-01T23:00:00Z"},
            {"room_name": "tomorrow", "started_at": "2026-05-02T01:00:00Z"},
        ],
        assistant_id=ASSISTANT,
        fallback_day=DAY,
        fetched_at=FETCHED,
    )
    lake.write_batch(DAY, ASSISTANT, batch)
    stored = lake.read_partition("call_logs", DAY, ASSISTANT)
    assert stored is not None
    assert stored.column("room_name").to_pylist() == ["today"]
    assert lake.read_partition("call_logs", NEXT_DAY, ASSISTANT) is None


def test_large_partitions_are_split_into_row_groups(lake: Lake, tmp_path: Path) -> None:
    rows = 128 * 1024 + 10
    table = pa.Table.from_pydict(
        {
            "assistant_id": [ASSISTANT] * rows,
            "call_date": pa.array([DAY] * rows, pa.date32()),
            "reason": ["r"] * rows,
            "raw": ["{}"] * rows,
            "fetched_at": pa.array([FETCHED] * rows, CALL_LOGS_SCHEMA.field("fetched_at").type),
        },
        schema=REJECTED_LOGS_SCHEMA,
    )
    lake.write_partition("rejected_logs", DAY, ASSISTANT, table)
    metadata = pq.ParquetFile(partition_dir(tmp_path, "rejected_logs") / FILE_NAME).metadata
    assert metadata.num_row_groups == 2


def test_a_file_uri_works_like_a_path(tmp_path: Path) -> None:
    lake = Lake((tmp_path / "lake").as_uri())
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("a"))
    assert Lake(str(tmp_path / "lake")).read_partition("call_logs", DAY, ASSISTANT) is not None


def test_the_tree_is_owner_only(lake: Lake, tmp_path: Path) -> None:
    path = Path(lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("a")))
    created = [parent for parent in path.parents if "lake/" in str(parent)]
    for directory in [tmp_path / "lake", *created]:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- replacement -----------------------------------------------------------------------------


def test_rewriting_a_partition_replaces_it(lake: Lake, tmp_path: Path) -> None:
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("a", "b", status="initiated"))
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("a", status="completed"))
    stored = lake.read_partition("call_logs", DAY, ASSISTANT)
    assert stored is not None
    assert stored.column("room_name").to_pylist() == ["a"]
    assert stored.column("call_status").to_pylist() == ["completed"]
    assert os.listdir(partition_dir(tmp_path)) == [FILE_NAME]


def test_a_failed_swap_keeps_the_old_partition_and_leaves_no_temp_file(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("old"))

    def failing_swap(self: Lake, temp: str, final: str) -> None:
        raise OSError(errno.EIO, "simulated failure", final)

    monkeypatch.setattr(Lake, "_swap", failing_swap)
    with pytest.raises(LakeError, match="cannot replace"):
        lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("new"))
    stored = lake.read_partition("call_logs", DAY, ASSISTANT)
    assert stored is not None
    assert stored.column("room_name").to_pylist() == ["old"]
    assert os.listdir(partition_dir(tmp_path)) == [FILE_NAME]


CRASH_BEFORE_SWAP = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, date, datetime
    from pipeline.lake import Lake
    from pipeline.normalize import normalize_records

    def die(self, temp, final):
        os._exit(3)  # the process is killed after writing, before the rename

    Lake._swap = die
    batch = normalize_records(
        [{"room_name": "new", "started_at": "2026-05-01T10:00:00Z"}],
        assistant_id=sys.argv[2], fallback_day=date(2026, 5, 1),
        fetched_at=datetime(2026, 5, 2, tzinfo=UTC),
    )
    Lake(sys.argv[1]).write_batch(date(2026, 5, 1), sys.argv[2], batch)
    """
)


def test_a_crash_between_write_and_swap_leaves_a_readable_lake(lake: Lake, tmp_path: Path) -> None:
    lake.write_batch(DAY, ASSISTANT, batch_of("old"))
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_BEFORE_SWAP, str(tmp_path / "lake"), ASSISTANT],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=False,
    )
    assert crashed.returncode == 3, crashed.stderr
    leftovers = [name for name in os.listdir(partition_dir(tmp_path)) if name != FILE_NAME]
    assert len(leftovers) == 1
    assert leftovers[0].startswith(".") and leftovers[0].endswith(".tmp")

    # every reader still sees the old, complete partition and nothing of the temporary file
    stored = lake.read_partition("call_logs", DAY, ASSISTANT)
    assert stored is not None
    assert stored.column("room_name").to_pylist() == ["old"]
    dataset = ds.dataset(str(tmp_path / "lake" / "call_logs"), partitioning="hive")
    assert [Path(file).name for file in dataset.files] == [FILE_NAME]
    assert dataset.to_table().column("room_name").to_pylist() == ["old"]
    glob = str(tmp_path / "lake" / "call_logs" / "*" / "*" / "*.parquet")
    query = "SELECT room_name, call_date, assistant_id FROM read_parquet(?, hive_partitioning = 1)"
    rows = duckdb.connect().execute(query, [glob]).fetchall()
    assert rows == [("old", DAY, ASSISTANT)]

    # the next write of the partition replaces it and cleans up
    lake.write_batch(DAY, ASSISTANT, batch_of("newer"))
    assert os.listdir(partition_dir(tmp_path)) == [FILE_NAME]
    stored = lake.read_partition("call_logs", DAY, ASSISTANT)
    assert stored is not None
    assert stored.column("room_name").to_pylist() == ["newer"]


def test_temp_files_are_invisible_to_readers(lake: Lake, tmp_path: Path) -> None:
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("a"))
    (partition_dir(tmp_path) / f".{FILE_NAME}.deadbeef.tmp").write_bytes(b"half a file")
    lonely = partition_dir(tmp_path, day=NEXT_DAY)
    lonely.mkdir(parents=True)
    (lonely / f".{FILE_NAME}.cafe.tmp").write_bytes(b"half a file")
    assert lake.list_partitions("call_logs") == [(DAY, ASSISTANT)]
    assert lake.read_partition("call_logs", NEXT_DAY, ASSISTANT) is None
    assert lake.read_table("call_logs").column("room_name").to_pylist() == ["a"]
    dataset = ds.dataset(str(tmp_path / "lake" / "call_logs"), partitioning="hive")
    assert dataset.to_table().num_rows == 1


def test_concurrent_writers_of_one_partition_leave_one_whole_file(
    lake: Lake, tmp_path: Path
) -> None:
    versions = [calls_of(*(f"v{version}-{room}" for room in range(20))) for version in range(6)]
    threads = [
        threading.Thread(target=lake.write_partition, args=("call_logs", DAY, ASSISTANT, version))
        for version in versions
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = lake.read_partition("call_logs", DAY, ASSISTANT)
    assert stored is not None
    assert any(stored.equals(version) for version in versions)
    assert os.listdir(partition_dir(tmp_path)) == [FILE_NAME]
    assert lake.partitions_being_written == 0


def test_a_partition_lock_lives_only_while_the_partition_is_written(lake: Lake) -> None:
    for offset in range(50):  # a long backfill: many partitions, one after another
        day = DAY + timedelta(days=offset)
        lake.write_partition("call_logs", day, ASSISTANT, calls_of(f"a{offset}", day=day))
    assert lake.partitions_being_written == 0
    with lake._locked([("call_logs", DAY, ASSISTANT)]):
        assert lake.partitions_being_written == 1
        waiting = threading.Thread(
            target=lake.write_partition, args=("call_logs", DAY, ASSISTANT, calls_of("b"))
        )
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive()  # the second writer waits for the first
        assert lake.partitions_being_written == 1  # on the same lock
    waiting.join(timeout=30)
    assert lake.partitions_being_written == 0
    stored = lake.read_partition("call_logs", DAY, ASSISTANT)
    assert stored is not None and stored.column("room_name").to_pylist() == ["b"]


# --- validation ------------------------------------------------------------------------------


def test_nullability_differences_are_cast_away(lake: Lake) -> None:
    relaxed = pa.schema([field.with_nullable(True) for field in CALL_LOGS_SCHEMA])
    table = calls_of("a").cast(relaxed)
    lake.write_partition("call_logs", DAY, ASSISTANT, table)
    stored = lake.read_partition("call_logs", DAY, ASSISTANT)
    assert stored is not None
    assert stored.schema.equals(CALL_LOGS_SCHEMA)


def test_columns_in_another_order_are_accepted(lake: Lake) -> None:
    table = calls_of("a")
    lake.write_partition("call_logs", DAY, ASSISTANT, table.select(table.schema.names[::-1]))
    stored = lake.read_partition("call_logs", DAY, ASSISTANT)
    assert stored is not None and stored.equals(table)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop_columns(["extra"]), "missing \\['extra'\\]"),
        (lambda t: t.append_column("bonus", pa.array(["x"])), "unexpected \\['bonus'\\]"),
        (
            lambda t: t.set_column(
                t.schema.get_field_index("sip_status_code"),
                "sip_status_code",
                pa.array([1], pa.int64()),
            ),
            "sip_status_code is int64, expected int32",
        ),
        (
            lambda t: t.set_column(
                t.schema.get_field_index("room_name"),
                pa.field("room_name", pa.string()),
                pa.array([None], pa.string()),
            ),
            "room_name has nulls",
        ),
    ],
)
def test_a_table_that_does_not_match_the_schema_is_refused(
    lake: Lake, change: Any, message: str
) -> None:
    with pytest.raises(LakeError, match=message):
        lake.write_partition("call_logs", DAY, ASSISTANT, change(calls_of("a")))
    assert lake.read_partition("call_logs", DAY, ASSISTANT) is None


def test_rows_of_another_day_or_assistant_are_refused(lake: Lake) -> None:
    with pytest.raises(LakeError, match="another call_date"):
        lake.write_partition("call_logs", NEXT_DAY, ASSISTANT, calls_of("a"))
    with pytest.raises(LakeError, match="another assistant_id"):
        lake.write_partition("call_logs", DAY, OTHER_ASSISTANT, calls_of("a"))


@pytest.mark.parametrize("assistant_id", ["../escape", "a/b", "", ".hidden", "x y"])
def test_an_assistant_id_that_is_not_a_safe_path_segment_is_refused(
    lake: Lake, assistant_id: str
) -> None:
    with pytest.raises(LakeError, match="cannot name a lake partition"):
        lake.write_partition("call_logs", DAY, assistant_id, CALL_LOGS_SCHEMA.empty_table())


def test_an_unknown_table_is_refused(lake: Lake) -> None:
    with pytest.raises(LakeError, match="unknown lake table"):
        lake.read_partition("calls", DAY, ASSISTANT)


def test_a_corrupt_file_is_a_lake_error(lake: Lake, tmp_path: Path) -> None:
    path = partition_dir(tmp_path)
    path.mkdir(parents=True)
    (path / FILE_NAME).write_bytes(b"not parquet")
    with pytest.raises(LakeError, match=str(path)):
        lake.read_partition("call_logs", DAY, ASSISTANT)


# --- I/O errors ------------------------------------------------------------------------------


@pytest.mark.skipif(IS_ROOT, reason="root ignores permission bits")
def test_a_read_only_directory_gives_an_actionable_lake_error(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    root.mkdir()
    root.chmod(0o500)
    try:
        with pytest.raises(LakeError, match="permission denied") as raised:
            Lake(str(root)).write_partition("call_logs", DAY, ASSISTANT, calls_of("a"))
        assert str(root) in str(raised.value)
    finally:
        root.chmod(0o700)


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        (errno.EACCES, "permission denied"),
        (errno.ENOSPC, "no space left"),
        (errno.EROFS, "read-only file system"),
    ],
)
def test_io_errors_while_writing_become_lake_errors_naming_the_path(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, advice: str
) -> None:
    def failing_write(self: Lake, file_table: pa.Table, path: str) -> None:
        raise OSError(code, os.strerror(code), path)

    monkeypatch.setattr(Lake, "_write_parquet", failing_write)
    with pytest.raises(LakeError, match=advice) as raised:
        lake.write_batch(DAY, ASSISTANT, batch_of("a"))
    assert str(partition_dir(tmp_path, "call_logs")) in str(raised.value)
    assert lake.list_partitions("call_logs") == []


def test_a_lake_location_that_is_a_file_gives_a_lake_error(tmp_path: Path) -> None:
    blocker = tmp_path / "lake"
    blocker.write_text("not a directory")
    with pytest.raises(LakeError, match="cannot create"):
        Lake(str(blocker)).write_partition("call_logs", DAY, ASSISTANT, calls_of("a"))


def test_an_unsupported_uri_gives_a_lake_error() -> None:
    with pytest.raises(LakeError, match="cannot open the lake"):
        Lake("nosuchscheme://bucket/prefix")


def test_a_call_logs_file_from_before_the_promoted_columns_reads_as_a_fresh_one(
    lake: Lake,
) -> None:
    platform = {
        "call_type": "outbound",
        "call_service": "twilio",
        "call_end_reason": "natural",
        "agent_ready_at": "2026-05-01T10:00:03.250000Z",
        "queue_id": "q-1",
        "platform_number": "+918000000001",
        "is_passthrough": "no",  # not a boolean: stays in extra, under _uncoerced
    }
    records: list[dict[str, Any]] = [
        {"room_name": "a", "started_at": "2026-05-01T10:00:00Z", "usage": {"n": 1}, **platform},
        {"room_name": "b", "started_at": "2026-05-01T11:00:00Z"},
    ]
    fresh = normalize_records(
        records, assistant_id=ASSISTANT, fallback_day=DAY, fetched_at=FETCHED
    ).call_logs
    old_extra = [
        '{"agent_ready_at":"2026-05-01T10:00:03.250000Z","call_end_reason":"natural",'
        '"call_service":"twilio","call_type":"outbound","is_passthrough":"no",'
        '"platform_number":"+918000000001","queue_id":"q-1","usage":{"n":1}}',
        "{}",
    ]
    old = fresh.drop_columns([*PROMOTED_FIELDS, "call_date", "assistant_id"])
    old = old.set_column(old.column_names.index("extra"), "extra", pa.array(old_extra))
    path = Path(lake.partition_path("call_logs", DAY, ASSISTANT))
    path.parent.mkdir(parents=True)
    pq.write_table(old, path)

    assert lake.read_partition("call_logs", DAY, ASSISTANT) == fresh
    assert fresh["extra"][0].as_py() == '{"_uncoerced":{"is_passthrough":"no"},"usage":{"n":1}}'
