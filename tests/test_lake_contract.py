"""The Lake contract, once per backend: a local directory and S3 (a moto server on loopback).

What a lake promises whatever it is stored on; the files, objects, permissions and failure
injection of each backend are tested in ``test_lake.py`` and ``test_lake_s3.py``.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from pipeline.lake import Lake
from pipeline.normalize import NormalizedBatch, normalize_records
from pipeline.schemas import CALL_LOGS_SCHEMA, REJECTED_LOGS_SCHEMA, TRANSCRIPTS_SCHEMA
from tests.test_lake import ASSISTANT, DAY, FETCHED, NEXT_DAY, OTHER_ASSISTANT, batch_of, calls_of


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    if request.param == "local":
        return Lake(str(tmp_path / "lake"))
    bucket = request.getfixturevalue("bucket")  # a fresh bucket on the module's moto server
    return Lake(f"s3://{bucket}/lake")


def test_a_batch_reads_back_exactly_with_its_schemas(lake: Lake) -> None:
    batch = batch_of("a", "b", "c")
    lake.write_batch(DAY, ASSISTANT, batch)
    for name, schema in (
        ("call_logs", CALL_LOGS_SCHEMA),
        ("transcripts", TRANSCRIPTS_SCHEMA),
        ("rejected_logs", REJECTED_LOGS_SCHEMA),
    ):
        stored = lake.read_partition(name, DAY, ASSISTANT)
        assert stored is not None
        assert stored.schema.equals(schema, check_metadata=True)
        assert stored.equals(getattr(batch, name))


def test_an_absent_partition_is_none_and_an_empty_batch_writes_all_three_tables(
    lake: Lake,
) -> None:
    assert lake.read_partition("call_logs", DAY, ASSISTANT) is None
    lake.write_batch(DAY, ASSISTANT, NormalizedBatch.empty())
    for name in ("call_logs", "transcripts", "rejected_logs"):
        stored = lake.read_partition(name, DAY, ASSISTANT)
        assert stored is not None and stored.num_rows == 0


def test_listing_and_reading_whole_tables_by_day_and_assistant(lake: Lake) -> None:
    lake.write_partition("call_logs", NEXT_DAY, ASSISTANT, calls_of("c", day=NEXT_DAY))
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("a", "b"))
    other = normalize_records(
        [{"room_name": "z", "started_at": "2026-05-01T09:00:00Z"}],
        assistant_id=OTHER_ASSISTANT,
        fallback_day=DAY,
        fetched_at=FETCHED,
    )
    lake.write_partition("call_logs", DAY, OTHER_ASSISTANT, other.call_logs)
    assert lake.list_partitions("call_logs") == [
        (DAY, ASSISTANT),
        (DAY, OTHER_ASSISTANT),
        (NEXT_DAY, ASSISTANT),
    ]
    assert lake.list_partitions("call_logs", days=[NEXT_DAY]) == [(NEXT_DAY, ASSISTANT)]
    assert lake.list_partitions("call_logs", days=[date(2020, 1, 1)]) == []
    assert lake.list_partitions("transcripts") == []
    everything = lake.read_table("call_logs")
    assert everything.schema.equals(CALL_LOGS_SCHEMA)
    assert sorted(everything.column("room_name").to_pylist()) == ["a", "b", "c", "z"]
    assert lake.read_table("call_logs", days=[DAY], assistant_ids=[ASSISTANT]).column(
        "room_name"
    ).to_pylist() == ["a", "b"]
    assert lake.read_table("transcripts").num_rows == 0


def test_rewriting_replaces_and_the_same_batch_twice_changes_nothing(lake: Lake) -> None:
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("a", "b", status="initiated"))
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("a", status="completed"))
    stored = lake.read_partition("call_logs", DAY, ASSISTANT)
    assert stored is not None
    assert stored.column("room_name").to_pylist() == ["a"]
    assert stored.column("call_status").to_pylist() == ["completed"]
    batch = batch_of("x", "y")
    lake.write_batch(DAY, ASSISTANT, batch)
    first = lake.read_table("call_logs")
    lake.write_batch(DAY, ASSISTANT, batch)
    assert lake.read_table("call_logs").equals(first)
    assert lake.list_partitions("call_logs") == [(DAY, ASSISTANT)]


def test_concurrent_writers_of_one_partition_leave_one_whole_version(lake: Lake) -> None:
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
    assert lake.partitions_being_written == 0
