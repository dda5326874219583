"""The Parquet lake: one file per (table, day, assistant), replaced atomically, read back exactly.

Layout (hive): ``<location>/<table>/call_date=YYYY-MM-DD/assistant_id=<id>/part-0.parquet``,
zstd-compressed, row groups of at most 128k rows. The partition columns ``call_date`` and
``assistant_id`` live in the path, not in the file (the hive convention, so that
``pyarrow.dataset.dataset(<location>/<table>, partitioning="hive")`` and DuckDB's
``read_parquet(..., hive_partitioning = true)`` read the lake as is); ``read_partition`` and
``read_table`` put them back and always return the exact schema of ``LAKE_TABLES``.

Atomic replacement, local. On a local file system a partition is written to a temporary file in
its own directory, ``.part-0.parquet.<random>.tmp`` - invisible to readers, since pyarrow.dataset
skips names starting with ``.`` or ``_`` and DuckDB globs ``*.parquet`` - flushed to disk, and
renamed over ``part-0.parquet`` (``rename(2)``, which ``pyarrow.fs.LocalFileSystem.move`` calls,
replaces the destination atomically). A crash leaves the old file or the new one, never a mix; a
leftover temporary file is removed by the next write of that partition.

Atomic replacement, object storage (``s3://bucket/prefix``; the same code serves any S3-compatible
store: MinIO, Ceph, R2, moto). An object store has no rename (pyarrow's ``move`` is a copy plus a
delete), an upload becomes visible only once it is complete (a single PUT, or the final request of
a multipart upload), and a PUT over an existing key replaces it atomically: a reader gets the old
object or the new one. The catch is on the client side: pyarrow's output stream *completes* the
upload when it is closed, and ``with fs.open_output_stream(...)`` closes it on an exception too,
so streaming Parquet into the final key would publish a truncated file over the good one if the
write failed half way. Hence:

* the Parquet file is always serialised in memory first (a partition is one assistant-day), so a
  failure while encoding never reaches the store;
* a file under ``SINGLE_PUT_BYTES`` (nearly all) is sent to the final key as one PutObject (the
  S3 filesystem is opened with ``allow_delayed_open``, which makes pyarrow send a stream that
  never reaches its part size as a single request): the key holds the old object until that one
  request succeeds;
* a larger file is uploaded (multipart) to a hidden temporary key first and only then copied over
  the final key server-side (CopyObject, atomic) and the temporary key deleted; an interrupted
  upload is never completed, and incomplete multipart uploads should be expired by a bucket
  lifecycle rule (``AbortIncompleteMultipartUpload``).

No manifest: every (table, day, assistant) has one fixed key, so a rewrite never adds an object (no
duplicates whatever a listing returns), listing is only needed to discover partitions, and S3,
MinIO, R2 and GCS give strong read-after-write and list-after-write consistency. A manifest would
make the tables of one partition switch together, but plain hive readers (DuckDB, pyarrow.dataset)
would not honour it; the tables of a partition can disagree only after a crash between their
swaps, exactly as on a local disk, and a run loads its partitions only after its own extract step
has rewritten them all.

Object-store settings come from the environment: the usual AWS chain for credentials
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``, profiles, web identity,
instance roles), applied by the AWS SDK itself - this module never passes them on and scrubs their
values from any error text it raises; the region from
``AWS_REGION``/``AWS_DEFAULT_REGION`` (else resolved from the bucket); an endpoint from the
``s3_endpoint`` argument (``Settings.s3_endpoint_url``, from ``CALL_LOGS_S3_ENDPOINT_URL``), else
the SDK's own ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` (``http://`` allowed, for local
servers). The URI may also carry ``?region=``, ``?endpoint_override=`` and ``?scheme=``
(pyarrow's names); credentials in the URI are refused, since the URI is shown in logs and in the
Dagster UI.

``write_batch`` checks (and, for a store, encodes) all its tables first, writes them all next and
swaps them only then - a small object's single PUT being its swap - so the tables of one partition
can disagree only if a crash or a failed request strikes between two swaps (a failed swap leaves
the rest unswapped); the next successful write of the partition repairs either. Writers of
the same partition inside one process are serialised; two processes writing the same partition at
once are not supported (the orchestrator never does that).
"""

from __future__ import annotations

import errno
import os
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline.errors import LakeError
from pipeline.redaction import has_credentials, redact
from pipeline.schemas import LAKE_TABLES, PROMOTED_FIELDS

if TYPE_CHECKING:
    from pipeline.normalize import NormalizedBatch

FILE_NAME: Final = "part-0.parquet"
RUN_RECORDS: Final = "_sync_runs"
ROW_GROUP_ROWS: Final = 128 * 1024
PARTITION_COLUMNS: Final = ("call_date", "assistant_id")
BATCH_TABLES: Final = ("call_logs", "transcripts", "rejected_logs")
_TEMP_PREFIX: Final = f".{FILE_NAME}."
_TEMP_SUFFIX: Final = ".tmp"
_PRIVATE_DIR_MODE: Final = 0o700
_PRIVATE_FILE_MODE: Final = 0o600
_SAFE_SEGMENT: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_DAY_DIR: Final = re.compile(r"call_date=(\d{4}-\d{2}-\d{2})")
_ASSISTANT_DIR: Final = re.compile(r"assistant_id=([A-Za-z0-9][A-Za-z0-9_-]*)")
# Below this size a file goes to its final key in one PutObject. pyarrow (26) sends a stream opened
# with allow_delayed_open as a single request while it stays under its 10 MiB part size.
SINGLE_PUT_BYTES: Final = 8 * 1024 * 1024
# The AWS SDK's own variables for an S3-compatible endpoint, first match wins (the project's
# CALL_LOGS_S3_ENDPOINT_URL is read by pipeline.config and passed in as ``s3_endpoint``).
S3_ENDPOINT_VARIABLES: Final = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
_S3_URI_OPTIONS: Final = ("region", "endpoint_override", "scheme")
# Values never shown in a message, should an error text from the store ever echo one.
_SECRET_VARIABLES: Final = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")


@dataclass(frozen=True)
class _Staged:
    """A written file waiting to be swapped in (``temp`` is None when written in place)."""

    final: str
    temp: str | None


class Lake:
    """Parquet partitions under a local path or a URI (``file:///...``, ``s3://bucket/prefix``)."""

    def __init__(
        self,
        location: str,
        *,
        env: Mapping[str, str] | None = None,
        s3_endpoint: str | None = None,
    ) -> None:
        """``env`` (default ``os.environ``) holds the AWS SDK's settings (see the module doc);
        ``s3_endpoint`` (``Settings.s3_endpoint_url``) wins over the endpoint variables there."""
        self.location = location
        source = os.environ if env is None else env
        try:
            if location.startswith("s3://"):
                filesystem, root = _s3_filesystem(location, source, s3_endpoint)
            elif "://" in location:
                filesystem, root = pafs.FileSystem.from_uri(location)
            else:
                filesystem, root = pafs.LocalFileSystem(), os.path.abspath(location)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
            raise LakeError(
                f"cannot open the lake at {location!r}: {_redact(str(error), source)}; set "
                "CALL_LOGS_LAKE_URL to a local path, a file:// URI or an object-store URI such as "
                "s3://bucket/prefix"
            ) from None
        self._fs: pafs.FileSystem = filesystem
        self._root = root.rstrip("/") or "/"
        self._local = isinstance(filesystem, pafs.LocalFileSystem)
        # One PutObject is atomic on S3 (see the module doc); elsewhere go through a temporary key.
        self._single_put = isinstance(filesystem, pafs.S3FileSystem)
        # A lock per partition being written, held only while someone writes it: entries are
        # counted and dropped at zero, so a year-long backfill of many assistants keeps none.
        self._locks: dict[tuple[str, date, str], tuple[threading.Lock, int]] = {}
        self._locks_guard = threading.Lock()

    def __repr__(self) -> str:
        return f"Lake({self.location!r})"

    # --- paths -------------------------------------------------------------------------------

    def partition_dir(self, table: str, day: date, assistant_id: str) -> str:
        _schema_of(table)
        if not isinstance(assistant_id, str) or not _SAFE_SEGMENT.fullmatch(assistant_id):
            raise LakeError(
                f"assistant id {assistant_id!r} cannot name a lake partition; "
                "use the assistant's UUID"
            )
        return f"{self._root}/{table}/call_date={day.isoformat()}/assistant_id={assistant_id}"

    def partition_path(self, table: str, day: date, assistant_id: str) -> str:
        return f"{self.partition_dir(table, day, assistant_id)}/{FILE_NAME}"

    # --- writing -----------------------------------------------------------------------------

    def write_partition(self, table: str, day: date, assistant_id: str, data: pa.Table) -> str:
        """Replace one partition with ``data`` (all rows of that day and assistant); its path."""
        file_table = _file_table(table, day, assistant_id, data)
        payload = self._payload(table, day, assistant_id, file_table)
        with self._locked([(table, day, assistant_id)]):
            staged = self._stage(table, day, assistant_id, payload)
            self._commit([staged])
        return staged.final

    def write_batch(self, day: date, assistant_id: str, batch: NormalizedBatch) -> None:
        """Replace the call_logs, transcripts and rejected_logs partitions of one day.

        All three are always written, empty ones included, so the partition is complete.
        """
        of_day = batch.for_day(day)
        tables = {
            "call_logs": of_day.call_logs,
            "transcripts": of_day.transcripts,
            "rejected_logs": of_day.rejected_logs,
        }
        # Every file is checked (and, for an object store, encoded) before anything is written.
        files = {
            name: self._payload(name, day, assistant_id, _file_table(name, day, assistant_id, data))
            for name, data in tables.items()
        }
        with self._locked([(name, day, assistant_id) for name in files]):
            staged: list[_Staged] = []
            try:
                for name, payload in files.items():
                    staged.append(self._stage(name, day, assistant_id, payload))
            except LakeError:
                self._discard(staged)
                raise
            self._commit(staged)

    def _payload(
        self, table: str, day: date, assistant_id: str, file_table: pa.Table
    ) -> pa.Table | pa.Buffer:
        """What ``_stage`` writes: the table locally, the finished Parquet bytes for a store."""
        if self._local:
            return file_table
        try:
            return _parquet_bytes(file_table)
        except (OSError, pa.ArrowException) as error:
            path = self.partition_path(table, day, assistant_id)
            raise _lake_error("encode", path, error) from None

    def _stage(
        self, table: str, day: date, assistant_id: str, payload: pa.Table | pa.Buffer
    ) -> _Staged:
        return self._stage_in(self.partition_dir(table, day, assistant_id), payload)

    def _stage_in(self, directory: str, payload: pa.Table | pa.Buffer) -> _Staged:
        final = f"{directory}/{FILE_NAME}"
        temp = f"{directory}/{_TEMP_PREFIX}{uuid.uuid4().hex}{_TEMP_SUFFIX}"
        if isinstance(payload, pa.Buffer):
            return self._stage_object(payload, final, temp)
        file_table = payload
        self._make_dirs(directory)
        try:
            self._write_parquet(file_table, temp)
            os.chmod(temp, _PRIVATE_FILE_MODE)
            _fsync_path(temp)
        except (OSError, pa.ArrowException) as error:
            self._discard([_Staged(final=final, temp=temp)])
            raise _lake_error("write", temp, error) from None
        return _Staged(final=final, temp=temp)

    def _stage_object(self, data: pa.Buffer, final: str, temp: str) -> _Staged:
        """Object storage: the finished file in one PUT to ``final``, or uploaded to ``temp``."""
        if self._single_put and data.size < SINGLE_PUT_BYTES:
            try:
                self._put_object(data, final)  # one request: the old object or the new one
            except (OSError, pa.ArrowException) as error:
                raise _lake_error("write", final, error) from None
            return _Staged(final=final, temp=None)
        try:
            self._put_object(data, temp)
        except (OSError, pa.ArrowException) as error:
            self._discard([_Staged(final=final, temp=temp)])
            raise _lake_error("write", temp, error) from None
        return _Staged(final=final, temp=temp)

    def _put_object(self, data: pa.Buffer, path: str) -> None:
        """Upload finished bytes in one write, so the stream is only ever closed complete."""
        with self._fs.open_output_stream(path) as sink:
            sink.write(data)

    def _commit(self, staged: Sequence[_Staged]) -> None:
        try:
            for item in staged:
                if item.temp is not None:
                    self._swap(item.temp, item.final)
        except (OSError, pa.ArrowException) as error:
            self._discard(staged)
            raise _lake_error("replace", staged[0].final, error) from None
        for directory in {item.final.rsplit("/", 1)[0] for item in staged if item.temp}:
            if self._local:
                _fsync_path(directory)
            self._remove_leftovers(directory)

    def _swap(self, temp: str, final: str) -> None:
        """The atomic step: put the finished file in place of the old one.

        A rename locally; on an object store a server-side copy (atomic) and a delete.
        """
        self._fs.move(temp, final)

    def _discard(self, staged: Sequence[_Staged]) -> None:
        for item in staged:
            if item.temp is not None:
                with suppress(OSError, pa.ArrowException):
                    self._fs.delete_file(item.temp)

    def _remove_leftovers(self, directory: str) -> None:
        """Delete temporary files a crashed write left behind (never fatal)."""
        try:
            entries = self._fs.get_file_info(pafs.FileSelector(directory))
        except (OSError, pa.ArrowException):
            return
        for entry in entries:
            if entry.base_name.startswith(_TEMP_PREFIX) and entry.base_name.endswith(_TEMP_SUFFIX):
                with suppress(OSError, pa.ArrowException):
                    self._fs.delete_file(entry.path)

    def _write_parquet(self, file_table: pa.Table, path: str) -> None:
        with self._fs.open_output_stream(path) as sink:
            pq.write_table(file_table, sink, compression="zstd", row_group_size=ROW_GROUP_ROWS)

    def _make_dirs(self, directory: str) -> None:
        try:
            if self._local:
                _make_private_dirs(directory)
            else:
                self._fs.create_dir(directory, recursive=True)
        except (OSError, pa.ArrowException) as error:
            raise _lake_error("create", directory, error) from None

    @contextmanager
    def _locked(self, keys: Sequence[tuple[str, date, str]]) -> Iterator[None]:
        wanted = sorted(set(keys))  # one order for everyone: no two writers wait on each other
        with self._locks_guard:
            locks = []
            for key in wanted:
                lock, users = self._locks.get(key) or (threading.Lock(), 0)
                self._locks[key] = (lock, users + 1)
                locks.append(lock)
        acquired: list[threading.Lock] = []
        try:
            for lock in locks:
                lock.acquire()
                acquired.append(lock)
            yield
        finally:
            for lock in reversed(acquired):
                lock.release()
            with self._locks_guard:
                for key in wanted:
                    lock, users = self._locks[key]
                    if users == 1:
                        del self._locks[key]
                    else:
                        self._locks[key] = (lock, users - 1)

    @property
    def partitions_being_written(self) -> int:
        """Partition locks held or waited for right now (0 when no write is under way)."""
        with self._locks_guard:
            return len(self._locks)

    # --- run records -------------------------------------------------------------------------

    def run_record_dir(self, run_id: str) -> str:
        if not _SAFE_SEGMENT.fullmatch(run_id):
            raise LakeError(f"run id {run_id!r} cannot name a lake file")
        return f"{self._root}/{RUN_RECORDS}/run_id={run_id}"

    def write_run_record(self, run_id: str, data: pa.Table) -> str:
        """Replace the record of one run (what its extraction did; read by its warehouse step).

        Kept under ``_sync_runs/``, which hive readers skip (a leading underscore).
        """
        directory = self.run_record_dir(run_id)
        payload: pa.Table | pa.Buffer = data
        if not self._local:
            try:
                payload = _parquet_bytes(data)
            except (OSError, pa.ArrowException) as error:
                raise _lake_error("encode", directory, error) from None
        staged = self._stage_in(directory, payload)
        self._commit([staged])
        return staged.final

    def read_run_record(self, run_id: str) -> pa.Table | None:
        path = f"{self.run_record_dir(run_id)}/{FILE_NAME}"
        try:
            if self._local:
                if self._fs.get_file_info(path).type != pafs.FileType.File:
                    return None
                with self._fs.open_input_file(path) as source:
                    return pq.ParquetFile(source).read()
            return self._read_object(path)
        except (OSError, pa.ArrowException) as error:
            raise _lake_error("read", path, error) from None

    # --- reading -----------------------------------------------------------------------------

    def read_partition(self, table: str, day: date, assistant_id: str) -> pa.Table | None:
        """One partition with the exact ``LAKE_TABLES`` schema, or None when never written."""
        schema = _schema_of(table)
        path = self.partition_path(table, day, assistant_id)
        try:
            if self._local:
                if self._fs.get_file_info(path).type != pafs.FileType.File:
                    return None
                with self._fs.open_input_file(path) as source:
                    stored = pq.ParquetFile(source).read()
            else:
                stored_or_none = self._read_object(path)
                if stored_or_none is None:
                    return None
                stored = stored_or_none
        except (OSError, pa.ArrowException) as error:
            raise _lake_error("read", path, error) from None
        if table == "call_logs" and not set(PROMOTED_FIELDS) <= set(stored.column_names):
            # written before those fields had columns; the normaliser only for such a file
            from pipeline.normalize.promote import with_promoted_fields  # noqa: PLC0415

            stored = with_promoted_fields(stored)
        count = stored.num_rows
        columns = {
            "call_date": pa.repeat(pa.scalar(day, type=pa.date32()), count),
            "assistant_id": pa.repeat(pa.scalar(assistant_id, type=pa.string()), count),
        }
        try:
            arrays = [
                columns[field.name] if field.name in columns else stored.column(field.name)
                for field in schema
            ]
            return pa.Table.from_arrays(arrays, names=schema.names).cast(schema)
        except (KeyError, pa.ArrowException) as error:
            raise LakeError(
                f"lake file {path} does not match the {table} schema ({error}); "
                "rewrite the partition by syncing that day again"
            ) from None

    def _read_object(self, path: str) -> pa.Table | None:
        """The whole object in one GET (a ranged read per column chunk is slow on a store)."""
        try:
            with self._fs.open_input_file(path) as source:
                data = source.read_buffer()
        except FileNotFoundError:
            return None
        return pq.ParquetFile(pa.BufferReader(data)).read()

    def list_partitions(
        self, table: str, days: Iterable[date] | None = None
    ) -> list[tuple[date, str]]:
        """Every (day, assistant_id) with a written file of ``table``, sorted.

        With ``days``, only those days' prefixes are listed (far fewer list requests on an
        object store holding years of partitions).
        """
        _schema_of(table)
        base = f"{self._root}/{table}"
        if days is None:
            prefixes = [base]
        else:
            prefixes = [f"{base}/call_date={day.isoformat()}" for day in sorted(set(days))]
        entries: list[pafs.FileInfo] = []
        for prefix in prefixes:
            try:
                entries.extend(
                    self._fs.get_file_info(
                        pafs.FileSelector(prefix, allow_not_found=True, recursive=True)
                    )
                )
            except (OSError, pa.ArrowException) as error:
                raise _lake_error("list", prefix, error) from None
        found: set[tuple[date, str]] = set()
        for entry in entries:
            if entry.type != pafs.FileType.File or entry.base_name != FILE_NAME:
                continue
            day_dir, assistant_dir, _ = [*entry.path[len(base) + 1 :].split("/"), "", ""][:3]
            day_match = _DAY_DIR.fullmatch(day_dir)
            assistant_match = _ASSISTANT_DIR.fullmatch(assistant_dir)
            if entry.path != f"{base}/{day_dir}/{assistant_dir}/{FILE_NAME}":
                continue
            if day_match is None or assistant_match is None:
                continue
            with suppress(ValueError):
                found.add((date.fromisoformat(day_match.group(1)), assistant_match.group(1)))
        return sorted(found)

    def read_table(
        self,
        table: str,
        days: Sequence[date] | None = None,
        assistant_ids: Sequence[str] | None = None,
    ) -> pa.Table:
        """All partitions of ``table`` (optionally only some days / assistants), exact schema."""
        schema = _schema_of(table)
        wanted_days = None if days is None else set(days)
        wanted_ids = None if assistant_ids is None else set(assistant_ids)
        parts = [
            self.read_partition(table, day, assistant)
            for day, assistant in self.list_partitions(table, wanted_days)
            if (wanted_days is None or day in wanted_days)
            and (wanted_ids is None or assistant in wanted_ids)
        ]
        present = [part for part in parts if part is not None]
        if not present:
            return schema.empty_table()
        return pa.concat_tables(present)


# --- helpers ---------------------------------------------------------------------------------


def _schema_of(table: str) -> pa.Schema:
    schema = LAKE_TABLES.get(table)
    if schema is None:
        raise LakeError(f"unknown lake table {table!r}; expected one of {sorted(LAKE_TABLES)}")
    return schema


def _file_table(table: str, day: date, assistant_id: str, data: pa.Table) -> pa.Table:
    """``data`` checked against the table's schema and partition; without the partition columns."""
    schema = _schema_of(table)
    where = f"{table} partition {day}/{assistant_id}"
    if sorted(data.schema.names) != sorted(schema.names):
        missing = sorted(set(schema.names) - set(data.schema.names))
        unexpected = sorted(set(data.schema.names) - set(schema.names))
        raise LakeError(
            f"cannot write {where}: columns differ from the {table} schema "
            f"(missing {missing}, unexpected {unexpected})"
        )
    ordered = data.select(schema.names)
    for field in schema:
        actual = ordered.schema.field(field.name).type
        if actual != field.type:
            raise LakeError(
                f"cannot write {where}: column {field.name} is {actual}, expected {field.type}"
            )
        if not field.nullable and ordered.column(field.name).null_count:
            raise LakeError(f"cannot write {where}: column {field.name} has nulls")
    checked = ordered.cast(schema)  # only nullability (or metadata) can differ now
    for name, expected in (("call_date", day), ("assistant_id", assistant_id)):
        column = checked.column(name)
        if checked.num_rows and not pc.all(pc.equal(column, pa.scalar(expected))).as_py():
            raise LakeError(
                f"cannot write {where}: some rows have another {name}; "
                "write each (day, assistant) partition with its own rows only"
            )
    return checked.drop_columns(list(PARTITION_COLUMNS)).combine_chunks()


def _parquet_bytes(file_table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    pq.write_table(file_table, sink, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    return sink.getvalue()


def _s3_filesystem(
    location: str, env: Mapping[str, str], s3_endpoint: str | None
) -> tuple[pafs.FileSystem, str]:
    """An S3FileSystem for ``s3://bucket/prefix`` configured from the environment (module doc)."""
    parts = urlsplit(location)
    if has_credentials(location):
        raise LakeError(
            "CALL_LOGS_LAKE_URL must not carry credentials (it is shown in logs and in the "
            "Dagster UI); use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile or a role"
        )
    bucket = parts.netloc
    if not bucket:
        raise LakeError(
            f"the lake URL {location!r} names no bucket; use s3://bucket or s3://bucket/prefix"
        )
    options: dict[str, Any] = {}
    endpoint = (s3_endpoint or "").strip() or next(
        (env[name].strip() for name in S3_ENDPOINT_VARIABLES if env.get(name)), ""
    )
    if endpoint:
        scheme, host = _split_endpoint(endpoint)
        options["scheme"], options["endpoint_override"] = scheme, host
    region = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "").strip()
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _S3_URI_OPTIONS:
            raise LakeError(
                f"unknown option {key!r} in the lake URL; supported: {', '.join(_S3_URI_OPTIONS)}"
            )
        if key == "region":
            region = value
        else:
            options[key] = value
    if not region and "endpoint_override" not in options:
        region = pafs.resolve_s3_region(bucket)  # what FileSystem.from_uri does
    filesystem = pafs.S3FileSystem(
        region=region or None,
        # A stream that stays under pyarrow's part size is then sent as one PutObject.
        allow_delayed_open=True,
        **options,
    )
    return filesystem, f"{bucket}/{parts.path.strip('/')}".rstrip("/")


def _split_endpoint(endpoint: str) -> tuple[str, str]:
    """``http://host:port`` -> (``http``, ``host:port``); a bare ``host:port`` means https."""
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or has_credentials(endpoint)
        or parts.path.strip("/")
        or parts.query
    ):
        raise LakeError(
            "the S3 endpoint (CALL_LOGS_S3_ENDPOINT_URL / AWS_ENDPOINT_URL) must look like "
            "http://host:port or https://host, without credentials or a path"
        )
    return parts.scheme, parts.netloc


def _redact(text: str, env: Mapping[str, str] | None = None) -> str:
    source = os.environ if env is None else env
    return redact(text, *(source.get(name) for name in _SECRET_VARIABLES), min_chars=4)


def _make_private_dirs(directory: str) -> None:
    """Create ``directory`` and any missing parents, owner-only (0o700)."""
    missing: list[str] = []
    current = directory
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for path in reversed(missing):
        with suppress(FileExistsError):
            os.mkdir(path, _PRIVATE_DIR_MODE)


def _fsync_path(path: str) -> None:
    """Flush a file's data or a directory's entries to disk (best effort for directories)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError:
        if not os.path.isdir(path):
            raise
    finally:
        os.close(descriptor)


_ADVICE: Final = {
    errno.EACCES: "permission denied: make it writable by this user or point "
    "CALL_LOGS_DATA_DIR / CALL_LOGS_LAKE_URL elsewhere",
    errno.EPERM: "operation not permitted: check the owner and permissions of the lake directory",
    errno.ENOSPC: "no space left on the device: free some space or move CALL_LOGS_DATA_DIR",
    errno.EDQUOT: "disk quota exceeded: free some space or move CALL_LOGS_DATA_DIR",
    errno.EROFS: "read-only file system: point CALL_LOGS_DATA_DIR / CALL_LOGS_LAKE_URL at a "
    "writable location",
}


def _lake_error(action: str, path: str, error: Exception) -> LakeError:
    code = getattr(error, "errno", None)
    advice = _ADVICE.get(code) if isinstance(code, int) else None
    if advice is None:
        text = _redact(str(error))
        for candidate, known in _ADVICE.items():
            if os.strerror(candidate).lower() in text.lower():
                advice = known
                break
        else:
            advice = f"{text or type(error).__name__}; check that the lake location is reachable"
    return LakeError(f"cannot {action} {path}: {advice}")
