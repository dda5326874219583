"""The lake on object storage: the Lake contract against a real S3 server (moto) on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import pipeline.lake as lake_module
from pipeline.config import Settings
from pipeline.errors import ConfigError, LakeError
from pipeline.lake import FILE_NAME, Lake
from tests.s3_server import (
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    admin_fs,
    objects,
)
from tests.test_lake import (
    ASSISTANT,
    DAY,
    batch_of,
    calls_of,
)

KEY = f"lake/call_logs/call_date={DAY}/assistant_id={ASSISTANT}/{FILE_NAME}"


@pytest.fixture
def lake(bucket: str) -> Lake:
    return Lake(f"s3://{bucket}/lake")


def rooms(lake: Lake, table: str = "call_logs", day: date = DAY) -> list[str]:
    stored = lake.read_partition(table, day, ASSISTANT)
    assert stored is not None
    return list(stored.column("room_name").to_pylist())


def spy_uploads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    uploaded: list[str] = []
    original = Lake._put_object

    def recording(self: Lake, data: pa.Buffer, path: str) -> None:
        uploaded.append(path)
        original(self, data, path)

    monkeypatch.setattr(Lake, "_put_object", recording)
    return uploaded


# --- layout and round trip -------------------------------------------------------------------


def test_a_batch_lands_at_the_hive_keys_as_zstd_parquet(
    lake: Lake, endpoint: str, bucket: str
) -> None:
    """What it reads back is the contract's (test_lake_contract.py); here, where it lands."""
    lake.write_batch(DAY, ASSISTANT, batch_of("a", "b", "c"))
    assert objects(endpoint, bucket) == [
        f"lake/{name}/call_date={DAY}/assistant_id={ASSISTANT}/{FILE_NAME}"
        for name in ("call_logs", "rejected_logs", "transcripts")
    ]
    # a plain hive reader sees the lake as is
    with admin_fs(endpoint).open_input_file(f"{bucket}/{KEY}") as source:
        metadata = pq.ParquetFile(source).metadata
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert "call_date" not in metadata.schema.names


# --- replacement -----------------------------------------------------------------------------


def test_rewriting_replaces_and_rewriting_the_same_batch_changes_nothing(
    lake: Lake, endpoint: str, bucket: str
) -> None:
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
    assert len(objects(endpoint, bucket)) == 3  # one object per table, whatever the rewrites


def test_a_small_file_is_one_put_to_the_final_key(
    lake: Lake, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploaded = spy_uploads(monkeypatch)
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("a"))
    assert uploaded == [f"{bucket}/{KEY}"]


def test_a_large_file_goes_through_a_hidden_temporary_key_and_a_server_side_copy(
    lake: Lake, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lake_module, "SINGLE_PUT_BYTES", 0)  # every file counts as large
    uploaded = spy_uploads(monkeypatch)
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("old"))
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("new"))
    assert len(uploaded) == 2
    for path in uploaded:
        name = path.rsplit("/", 1)[1]
        assert name.startswith(f".{FILE_NAME}.") and name.endswith(".tmp")
    assert rooms(lake) == ["new"]
    assert objects(endpoint, bucket) == [KEY]  # the temporary objects are gone


# --- failures leave the old object readable --------------------------------------------------


def test_a_write_that_fails_while_encoding_keeps_the_old_object(
    lake: Lake, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("old"))

    def half_written(table: pa.Table, where: pa.NativeFile, **_: object) -> None:
        where.write(b"PAR1" + b"\0" * (6 * 1024 * 1024))  # more than a multipart part
        raise OSError("simulated failure half way through the file")

    monkeypatch.setattr(pq, "write_table", half_written)
    with pytest.raises(LakeError, match="cannot encode"):
        lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("new"))
    assert rooms(lake) == ["old"]
    assert objects(endpoint, bucket) == [KEY]


def test_a_batch_whose_second_table_cannot_be_encoded_changes_no_table(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake.write_batch(DAY, ASSISTANT, batch_of("old"))
    original = lake_module._parquet_bytes
    calls: list[int] = []

    def second_fails(file_table: pa.Table) -> pa.Buffer:
        calls.append(1)
        if len(calls) == 2:
            raise pa.ArrowInvalid("simulated encoding failure")
        return original(file_table)

    monkeypatch.setattr(lake_module, "_parquet_bytes", second_fails)
    with pytest.raises(LakeError, match="cannot encode"):
        lake.write_batch(DAY, ASSISTANT, batch_of("new"))
    assert rooms(lake) == ["old"]  # call_logs, encoded first, was not sent either
    transcripts = lake.read_partition("transcripts", DAY, ASSISTANT)
    assert transcripts is not None
    assert transcripts.column("room_name").to_pylist() == ["old"]


def test_an_upload_that_fails_half_way_keeps_the_old_object(
    lake: Lake, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stream of a failed upload is closed - which completes it - but only on a temp key."""
    lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("old"))
    monkeypatch.setattr(lake_module, "SINGLE_PUT_BYTES", 0)
    fs = lake._fs

    def dropped_connection(self: Lake, data: pa.Buffer, path: str) -> None:
        with fs.open_output_stream(path) as sink:
            sink.write(data[: data.size // 2])
            raise OSError("connection reset by peer")

    monkeypatch.setattr(Lake, "_put_object", dropped_connection)
    with pytest.raises(LakeError, match="cannot write"):
        lake.write_partition("call_logs", DAY, ASSISTANT, calls_of("new"))
    assert rooms(lake) == ["old"]
    assert objects(endpoint, bucket) == [KEY]  # the half-written temporary object was deleted


def test_a_failed_copy_keeps_the_old_object_and_removes_the_temporary_one(
    lake: Lake, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake.write_batch(DAY, ASSISTANT, batch_of("old"))
    monkeypatch.setattr(lake_module, "SINGLE_PUT_BYTES", 0)

    def failing_swap(self: Lake, temp: str, final: str) -> None:
        raise OSError("AWS Error SLOW_DOWN during CopyObject operation")

    monkeypatch.setattr(Lake, "_swap", failing_swap)
    with pytest.raises(LakeError, match="cannot replace"):
        lake.write_batch(DAY, ASSISTANT, batch_of("new"))
    assert rooms(lake) == ["old"]
    assert len(objects(endpoint, bucket)) == 3


CRASH_BEFORE_COPY = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, date, datetime
    import pipeline.lake as lake_module
    from pipeline.lake import Lake
    from pipeline.normalize import normalize_records

    def die(self, temp, final):
        os._exit(3)  # killed after the upload to the temporary key, before the copy

    lake_module.SINGLE_PUT_BYTES = 0
    Lake._swap = die
    batch = normalize_records(
        [{"room_name": "new", "started_at": "2026-05-01T10:00:00Z"}],
        assistant_id=sys.argv[2], fallback_day=date(2026, 5, 1),
        fetched_at=datetime(2026, 5, 2, tzinfo=UTC),
    )
    Lake(sys.argv[1]).write_batch(date(2026, 5, 1), sys.argv[2], batch)
    """
)


def test_a_crash_between_upload_and_copy_leaves_a_readable_lake(
    lake: Lake, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake.write_batch(DAY, ASSISTANT, batch_of("old"))
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_BEFORE_COPY, lake.location, ASSISTANT],
        cwd=Path(__file__).resolve().parents[1],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert crashed.returncode == 3, crashed.stderr
    leftovers = [key for key in objects(endpoint, bucket) if not key.endswith(FILE_NAME)]
    assert len(leftovers) == 3
    assert all(key.rsplit("/", 1)[1].startswith(".") for key in leftovers)

    # every reader still sees the old, complete partition and nothing of the temporary objects
    assert rooms(lake) == ["old"]
    assert lake.list_partitions("call_logs") == [(DAY, ASSISTANT)]
    dataset = ds.dataset(
        f"{bucket}/lake/call_logs", filesystem=admin_fs(endpoint), partitioning="hive"
    )
    assert [Path(file).name for file in dataset.files] == [FILE_NAME]
    assert dataset.to_table().column("room_name").to_pylist() == ["old"]

    # the next write through a temporary key replaces the partition and cleans up
    monkeypatch.setattr(lake_module, "SINGLE_PUT_BYTES", 0)
    lake.write_batch(DAY, ASSISTANT, batch_of("newer"))
    assert rooms(lake) == ["newer"]
    assert all(key.endswith(FILE_NAME) for key in objects(endpoint, bucket))


def test_concurrent_writers_of_one_partition_leave_one_whole_object(
    lake: Lake, endpoint: str, bucket: str
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
    assert objects(endpoint, bucket) == [KEY]


def test_a_corrupt_object_is_a_lake_error(lake: Lake, endpoint: str, bucket: str) -> None:
    with admin_fs(endpoint).open_output_stream(f"{bucket}/{KEY}") as sink:
        sink.write(b"not parquet")
    with pytest.raises(LakeError, match="cannot read"):
        lake.read_partition("call_logs", DAY, ASSISTANT)


# --- configuration and secrets ---------------------------------------------------------------


def test_the_endpoint_can_come_from_the_uri_or_the_aws_variable(
    bucket: str, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Lake(f"s3://{bucket}/lake").write_partition("call_logs", DAY, ASSISTANT, calls_of("a"))
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    assert rooms(Lake(f"s3://{bucket}/lake")) == ["a"]
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    host = endpoint.split("://", 1)[1]
    assert rooms(Lake(f"s3://{bucket}/lake?endpoint_override={host}&scheme=http")) == ["a"]


def test_the_configured_endpoint_wins_over_the_aws_variables(
    bucket: str, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")  # nothing listens there
    Lake(f"s3://{bucket}/lake", s3_endpoint=endpoint).write_partition(
        "call_logs", DAY, ASSISTANT, calls_of("a")
    )


def test_the_project_variable_is_read_by_settings_not_by_the_lake(
    bucket: str, endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("CALL_LOGS_S3_ENDPOINT_URL", endpoint)
    with pytest.raises(LakeError, match="cannot write"):
        Lake(f"s3://{bucket}/lake").write_partition("call_logs", DAY, ASSISTANT, calls_of("a"))
    settings = Settings.from_env(
        {
            "CALL_LOGS_LAKE_URL": f"s3://{bucket}/lake",
            "CALL_LOGS_DATA_DIR": str(tmp_path),
            "CALL_LOGS_S3_ENDPOINT_URL": endpoint,
        }
    )
    settings.lake().write_partition("call_logs", DAY, ASSISTANT, calls_of("a"))


@pytest.mark.parametrize(
    ("location", "message"),
    [
        (f"s3://{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}@bucket/lake", "must not carry credentials"),
        ("s3:///lake", "names no bucket"),
        ("s3://bucket/lake?anonymous=true", "unknown option 'anonymous'"),
    ],
)
def test_a_bad_lake_url_is_refused_without_echoing_credentials(
    bucket: str, location: str, message: str
) -> None:
    with pytest.raises(LakeError, match=message) as raised:
        Lake(location)
    assert SECRET_ACCESS_KEY not in str(raised.value)


@pytest.mark.parametrize(
    "value", ["ftp://127.0.0.1:21", "http://user:pw@127.0.0.1:9000", "http://host/some/path"]
)
def test_a_bad_endpoint_is_refused(
    bucket: str, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    with pytest.raises(LakeError, match="must look like") as raised:
        Lake(f"s3://{bucket}/lake", s3_endpoint=value)
    assert "pw" not in str(raised.value)


def test_store_errors_are_lake_errors_that_never_show_the_keys(
    bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = Lake("s3://no-such-bucket-here/lake")
    with pytest.raises(LakeError, match="cannot write") as raised:
        missing.write_partition("call_logs", DAY, ASSISTANT, calls_of("a"))
    shown = f"{raised.value}\n{missing!r}"
    assert "no-such-bucket-here" in shown
    assert SECRET_ACCESS_KEY not in shown and ACCESS_KEY_ID not in shown

    unreachable = Lake(f"s3://{bucket}/lake", s3_endpoint="http://127.0.0.1:9")  # nobody there
    with pytest.raises(LakeError, match="cannot write") as raised:
        unreachable.write_partition("call_logs", DAY, ASSISTANT, calls_of("a"))
    assert SECRET_ACCESS_KEY not in str(raised.value)


def test_an_error_text_that_echoes_a_key_is_redacted(bucket: str) -> None:
    error = OSError(f"AWS Error: signature for {SECRET_ACCESS_KEY} / {ACCESS_KEY_ID} rejected")
    text = str(lake_module._lake_error("read", f"{bucket}/x", error))
    assert SECRET_ACCESS_KEY not in text and ACCESS_KEY_ID not in text
    assert "***" in text


def test_settings_refuse_a_lake_url_with_credentials(tmp_path: Path) -> None:
    env = {
        "CALL_LOGS_DATA_DIR": str(tmp_path),
        "CALL_LOGS_LAKE_URL": f"s3://{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}@bucket/lake",
    }
    with pytest.raises(ConfigError, match="must not carry credentials") as raised:
        Settings.from_env(env)
    assert SECRET_ACCESS_KEY not in str(raised.value)
    env["CALL_LOGS_LAKE_URL"] = " s3://bucket/lake "
    assert Settings.from_env(env).lake_location == "s3://bucket/lake"
