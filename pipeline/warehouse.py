"""The DuckDB warehouse: runs the ``sql/`` files, loads whole partitions, recomputes their metrics.

Every statement lives in ``sql/`` (see :mod:`pipeline.sqlfiles`); this module only opens
connections, hands Arrow tables to DuckDB's Arrow scan and controls transactions.

DuckDB lets one process at a time open the file read-write, and a read-write holder keeps every
other process out, readers included. So connections are short-lived (open, work, close), and
opening one retries on DuckDB's lock error with exponential backoff and jitter until
``lock_timeout_s``; threads of one process take turns on a process-local lock first.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.config import DEFAULT_DUCKDB_MEMORY_LIMIT
from pipeline.errors import QueryCancelled, WarehouseError
from pipeline.migrations import migrate
from pipeline.querystream import QueryStream
from pipeline.retry import RetryPolicy
from pipeline.schemas import (
    CALL_LOGS_SCHEMA,
    REJECTED_LOGS_SCHEMA,
    SYNC_WINDOWS_SCHEMA,
    TRANSCRIPTS_SCHEMA,
    UNREADABLE_WINDOWS_SCHEMA,
)
from pipeline.sqlfiles import read_sql, sql_files
from pipeline.wording import count

LOGGER = logging.getLogger(__name__)

# The derived tables of affected_partitions, rebuilt: each cleared, then computed from call_logs
# (and transcripts). A load runs them; so does a migration, over every partition.
METRIC_STEPS = (
    "metrics/clear_daily_assistant_metrics.sql",
    "metrics/daily_assistant_metrics.sql",
    "metrics/clear_sip_failures.sql",
    "metrics/sip_failures.sql",
    "metrics/clear_call_end_reasons.sql",
    "metrics/call_end_reasons.sql",
    "metrics/clear_call_transcript_stats.sql",
    "metrics/call_transcript_stats.sql",
)

# The load, in order. Each step reads the Arrow tables registered under the names of INCOMING and
# the temp table affected_partitions, so it touches exactly the partitions being replaced. The
# unchanged_* steps note, before the clear_* steps remove them, which stored rows come back
# unchanged, so the insert_* steps can keep their fetched_at ("when this version was first
# fetched") and a re-sync of unchanged days changes nothing.
LOAD_STEPS = (
    "load/affected_partitions.sql",
    "load/unchanged_calls.sql",
    "load/unchanged_rejected_logs.sql",
    "load/clear_call_logs.sql",
    "load/clear_transcripts.sql",
    "load/clear_rejected_logs.sql",
    "load/insert_call_logs.sql",
    "load/insert_transcripts.sql",
    "load/insert_rejected_logs.sql",
    "load/clear_unreadable_windows.sql",
    "load/upsert_unreadable_windows.sql",
    "load/upsert_sync_state.sql",
    "load/clear_sync_failures.sql",
    *METRIC_STEPS,
    "metrics/call_status_history.sql",  # merged from the incoming versions, never rebuilt
)

INCOMING_SCHEMAS: dict[str, pa.Schema] = {
    "incoming_call_logs": CALL_LOGS_SCHEMA,
    "incoming_transcripts": TRANSCRIPTS_SCHEMA,
    "incoming_rejected_logs": REJECTED_LOGS_SCHEMA,
    "incoming_unreadable_windows": UNREADABLE_WINDOWS_SCHEMA,
}

# The sync record of each partition being loaded: the lake's sync_windows row minus synced_at.
PARTITIONS_SCHEMA = pa.schema(
    [
        SYNC_WINDOWS_SCHEMA.field(name)
        for name in (
            "call_date",
            "assistant_id",
            "window_end",
            "api_total",
            "verified_calls",
            "requests",
        )
    ]
    + [pa.field("extracted_at", SYNC_WINDOWS_SCHEMA.field("synced_at").type)]
)

# Waiting for another process's lock: the client's backoff (full jitter), faster and capped lower.
_LOCK_RETRY = RetryPolicy(base_delay_s=0.05, max_delay_s=2.0)
_JITTER = random.Random()
_LOCK_PID = re.compile(r"\(PID (\d+)\)")

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _forget_process_locks() -> None:
    # A forked child must not inherit a lock some thread of its parent was holding.
    global _process_locks_guard  # noqa: PLW0603 - rebinding is the point after a fork
    _process_locks.clear()
    _process_locks_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_process_locks)


@dataclass(frozen=True)
class PartitionLoad:
    """The complete, latest state of one (call_date, assistant_id) partition, and its sync."""

    call_date: date
    assistant_id: str
    call_logs: pa.Table  # CALL_LOGS_SCHEMA
    transcripts: pa.Table  # TRANSCRIPTS_SCHEMA
    rejected_logs: pa.Table  # REJECTED_LOGS_SCHEMA
    window_end: datetime  # timezone-aware
    api_total: int
    verified_calls: int
    requests: int
    extracted_at: datetime | None = None  # when the API was read (the lake's synced_at)
    # Parts of the partition the API never serves (UNREADABLE_WINDOWS_SCHEMA); None: none.
    unreadable_windows: pa.Table | None = None

    @property
    def rows(self) -> int:
        """Calls + utterances: what a load batch is sized by."""
        return int(self.call_logs.num_rows) + int(self.transcripts.num_rows)


@dataclass(frozen=True)
class LoadStats:
    partitions: int
    calls: int
    utterances: int
    rejected: int
    seconds: float

    @classmethod
    def nothing(cls) -> LoadStats:
        return cls(0, 0, 0, 0, 0.0)

    def __add__(self, other: LoadStats) -> LoadStats:
        return LoadStats(
            partitions=self.partitions + other.partitions,
            calls=self.calls + other.calls,
            utterances=self.utterances + other.utterances,
            rejected=self.rejected + other.rejected,
            seconds=self.seconds + other.seconds,
        )

    def summary(self) -> str:
        return (
            f"warehouse: loaded {count(self.partitions, 'partition')}, "
            f"{count(self.calls, 'call')}, {count(self.utterances, 'utterance')}, "
            f"{self.rejected} rejected in {self.seconds:.2f}s"
        )


@dataclass(frozen=True)
class LoadedPartition:
    """A partition the warehouse holds: when it was read from the API, and its rows."""

    extracted_at: datetime | None
    calls: int
    utterances: int
    rejected: int

    def as_stats(self) -> LoadStats:
        """This partition in a load's totals (held already, so no time spent)."""
        return LoadStats(1, self.calls, self.utterances, self.rejected, 0.0)


class Warehouse:
    """One DuckDB file. Every method opens its own short-lived connection and closes it."""

    def __init__(
        self,
        path: Path,
        *,
        lock_timeout_s: float = 300.0,
        memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT,
    ) -> None:
        self.path = Path(path).absolute()
        self.lock_timeout_s = lock_timeout_s
        # DuckDB's buffer pool; CALL_LOGS_DUCKDB_MEMORY_LIMIT through Settings.warehouse().
        self.memory_limit = memory_limit
        self._schema_ready = False
        self._shared = threading.local()  # reading(): this thread's shared read-only connection

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"

    def ensure_schema(self) -> None:
        """Create every table and (re)create every view; safe to run any number of times."""
        with self._connection(read_only=False) as con:
            self._in_transaction(con, "creating the schema", lambda: self._apply_schema(con))
        self._schema_ready = True

    def load_partitions(self, loads: Sequence[PartitionLoad]) -> LoadStats:
        """Replace the given partitions and their metric rows in one transaction.

        A partition listed twice is loaded once, with its last version.
        """
        started = time.perf_counter()
        latest = {(load.call_date, load.assistant_id): load for load in loads}
        if not latest:
            return LoadStats(0, 0, 0, 0, time.perf_counter() - started)
        incoming = _incoming_tables(list(latest.values()))

        def run_load(con: duckdb.DuckDBPyConnection) -> None:
            if not self._schema_ready:
                self._apply_schema(con)
            for name, table in incoming.items():
                con.register(name, table)  # a view over the Arrow data, scanned, never copied
            for step in LOAD_STEPS:
                con.execute(read_sql(step))

        with self._connection(read_only=False) as con:
            self._in_transaction(
                con, f"loading {count(len(latest), 'partition')}", lambda: run_load(con)
            )
        self._schema_ready = True
        return LoadStats(
            partitions=len(latest),
            calls=incoming["incoming_call_logs"].num_rows,
            utterances=incoming["incoming_transcripts"].num_rows,
            rejected=incoming["incoming_rejected_logs"].num_rows,
            seconds=time.perf_counter() - started,
        )

    def loaded_partitions(
        self, keys: Sequence[tuple[date, str]]
    ) -> dict[tuple[date, str], LoadedPartition]:
        """Which of ``keys`` (call_date, assistant_id) the warehouse holds: when each was read
        from the API and how many rows it has (none on a new warehouse)."""
        if not keys or not self.path.exists():
            return {}
        wanted = pa.table(
            {
                "call_date": pa.array([day for day, _ in keys], pa.date32()),
                "assistant_id": pa.array([assistant for _, assistant in keys], pa.string()),
            }
        )
        rows = self.query(
            read_sql("state/loaded_partitions.sql"), tables={"wanted_partitions": wanted}
        )
        return {
            (row["call_date"], row["assistant_id"]): LoadedPartition(
                extracted_at=row["extracted_at"],
                calls=int(row["calls"]),
                utterances=int(row["utterances"]),
                rejected=int(row["rejected"]),
            )
            for row in rows.to_pylist()
        }

    def record_outcome(self, failures: pa.Table, assistants: pa.Table) -> None:
        """Record what a run could not sync and what it learnt of each assistant (one transaction).

        ``failures`` has the schema of ``pipeline.outcome.FAILURES_SCHEMA``, ``assistants`` of
        ``ASSISTANTS_SCHEMA``.
        """

        def run(con: duckdb.DuckDBPyConnection) -> None:
            if not self._schema_ready:
                self._apply_schema(con)
            con.register("incoming_failures", failures)
            con.register("incoming_assistants", assistants)
            con.execute(read_sql("state/record_failures.sql"))
            con.execute(read_sql("state/upsert_assistants.sql"))

        with self._connection(read_only=False) as con:
            self._in_transaction(con, "recording the run's outcome", lambda: run(con))
        self._schema_ready = True

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Every read of this thread inside the block shares one read-only connection.

        Opening a connection costs ~15 ms; a step that runs a dozen queries one after another
        (the planner, the checks) pays it once. The warehouse is locked against writers for the
        whole block, so keep writes out of it: a write of this thread inside it fails at once.
        """
        if self._shared_connection() is not None or not self.path.exists():
            yield
            return
        with self._connection(read_only=True) as con:
            self._shared.connection = con
            try:
                yield
            finally:
                self._shared.connection = None

    def query(
        self,
        sql: str,
        params: Sequence[object] | Mapping[str, object] | None = None,
        *,
        tables: Mapping[str, pa.Table] | None = None,
    ) -> pa.Table:
        """Run SQL on a read-only connection and return its whole result.

        ``tables`` are Arrow tables the SQL may read by name (scanned, not copied).
        """
        if not self.path.exists():
            raise WarehouseError(
                f"there is no warehouse at {self.path} yet; run `calllogs sync` to create it"
            )
        bound: list[object] | dict[str, object] | None
        if params is None:
            bound = None
        elif isinstance(params, Mapping):
            bound = dict(params)
        else:
            bound = list(params)
        with self._reader() as con:
            try:
                for name, table in (tables or {}).items():
                    con.register(name, table)
                result = con.sql(sql, params=bound).to_arrow_table()
            except duckdb.Error as exc:
                raise self._error(exc, "the query") from exc
            finally:
                for name in tables or {}:
                    with suppress(duckdb.Error):
                        con.unregister(name)
        return result if result is not None else pa.table({})

    @contextmanager
    def stream(
        self, statement: str, batch_rows: int = 10_000
    ) -> Iterator[tuple[pa.Schema | None, Iterator[pa.RecordBatch]]]:
        """Run one statement read-only and stream its result as Arrow record batches.

        Yields ``(schema, batches)``; ``schema`` is None for a statement that returns no rows.
        The connection stays open until the block ends. Ctrl-C interrupts the statement and
        raises :class:`QueryCancelled` (see :mod:`pipeline.querystream`).
        """
        if not self.path.exists():
            raise WarehouseError(
                f"there is no warehouse at {self.path} yet; run `calllogs sync` to create it"
            )
        with self._connection(read_only=True) as con:
            stream = QueryStream(con, statement, batch_rows, self._query_error).start()
            try:
                yield stream.schema(), stream.batches()
            finally:
                stream.close()

    def _query_error(self, exc: BaseException) -> WarehouseError:
        if isinstance(exc, duckdb.InterruptException) or "interrupted" in str(exc).lower():
            return QueryCancelled("query cancelled")
        if isinstance(exc, duckdb.Error):
            return self._error(exc, "the query")
        message = " ".join(str(exc).split()) or type(exc).__name__
        return WarehouseError(f"warehouse {self.path}: the query failed: {message}")

    def sync_state(self) -> pa.Table:
        """Every synced partition, ordered by assistant and day (empty on a new warehouse)."""
        self._create_if_missing()
        with self._reader() as con:
            try:
                table = con.table("sync_state").order("assistant_id, call_date").to_arrow_table()
            except duckdb.Error as exc:
                raise self._error(exc, "reading sync_state") from exc
        return table if table is not None else pa.table({})

    def table_counts(self) -> dict[str, int]:
        """Rows per warehouse table."""
        self._create_if_missing()
        with self._reader() as con:
            try:
                rows = con.table("table_row_counts").fetchall()
            except duckdb.Error as exc:
                raise self._error(exc, "counting rows") from exc
        return {str(name): int(count) for name, count in rows}

    # -- connections -------------------------------------------------------------------------

    def _shared_connection(self) -> duckdb.DuckDBPyConnection | None:
        return getattr(self._shared, "connection", None)

    @contextmanager
    def _reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection of the enclosing ``reading()`` block, or a read-only one of its own."""
        shared = self._shared_connection()
        if shared is not None:
            yield shared
            return
        with self._connection(read_only=True) as con:
            yield con

    @contextmanager
    def _connection(self, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._shared_connection() is not None:
            raise WarehouseError(
                f"warehouse {self.path}: a write or a stream was asked for inside reading(), which "
                "holds the warehouse until it ends; run it before or after that block"
            )
        deadline = time.monotonic() + self.lock_timeout_s
        local_lock = _process_lock(self.path)
        if not local_lock.acquire(timeout=max(self.lock_timeout_s, 0.0)):
            raise WarehouseError(
                f"another thread of this process kept the warehouse {self.path} busy for "
                f"{self.lock_timeout_s:g}s; let it finish or raise lock_timeout_s"
            )
        try:
            con = self._open(read_only=read_only, deadline=deadline)
            try:
                try:
                    con.execute("SET TimeZone = 'UTC'")
                except duckdb.Error as exc:
                    raise self._error(exc, "setting the session time zone") from exc
                except RuntimeError as exc:  # DuckDB's answer to Ctrl-C while it runs a statement
                    raise self._query_error(exc) from None
                yield con
            finally:
                try:
                    con.close()
                except duckdb.Error as exc:  # still busy (a second Ctrl-C): the process ends anyway
                    LOGGER.info("warehouse %s: closing the connection failed: %s", self.path, exc)
        finally:
            local_lock.release()

    def _open(self, *, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        if not read_only:
            self._create_parent()
        attempts = 0
        while True:
            attempts += 1
            try:
                return duckdb.connect(str(self.path), read_only=read_only, config=self._config())
            except duckdb.Error as exc:
                holder = _lock_holder(exc)
                if holder is None:
                    raise self._error(exc, "opening the warehouse") from exc
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WarehouseError(
                        f"{holder} holds the warehouse {self.path} and kept it for more than "
                        f"{self.lock_timeout_s:g}s ({attempts} attempts); wait for that sync or "
                        "SQL session to finish (or stop it) and run again"
                    ) from None
                pause = min(remaining, _LOCK_RETRY.backoff(attempts, _JITTER))
                LOGGER.info(
                    "warehouse %s is locked by %s; retrying in %.2fs", self.path, holder, pause
                )
                time.sleep(pause)

    def _config(self) -> dict[str, str | bool | int | float | list[str]]:
        # DuckDB's buffer pool defaults to 80% of RAM; a loader never needs that much, and a small
        # pool keeps a sync's peak memory flat whatever the warehouse's size (it spills to disk).
        return {"memory_limit": self.memory_limit}

    def _create_parent(self) -> None:
        parent = self.path.parent
        if parent.is_dir():
            return
        try:
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            parent.chmod(0o700)
        except OSError as exc:
            raise WarehouseError(
                f"cannot create the warehouse directory {parent}: {exc.strerror or exc}; "
                "check CALL_LOGS_DATA_DIR and its permissions"
            ) from exc

    def _create_if_missing(self) -> None:
        if not self.path.exists():
            self.ensure_schema()

    # -- statements --------------------------------------------------------------------------

    def _apply_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        for name in sql_files("schema"):
            con.execute(read_sql(name))
        for applied in migrate(con, recompute=METRIC_STEPS):
            LOGGER.info("warehouse %s: migrated (%s)", self.path, applied)
        for name in sql_files("views"):
            con.execute(read_sql(name))

    def _in_transaction(
        self, con: duckdb.DuckDBPyConnection, doing: str, work: Callable[[], None]
    ) -> None:
        try:
            con.execute("BEGIN TRANSACTION")
            work()
            con.execute("COMMIT")
        except duckdb.Error as exc:
            with suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise self._error(exc, doing) from exc

    def _error(self, exc: duckdb.Error, doing: str) -> WarehouseError:
        return WarehouseError(
            f"warehouse {self.path}: {doing} failed: {_one_line(exc)}; {_hint(exc)}"
        )


def split_statements(sql: str) -> list[str]:
    """The statements of a piece of SQL, in order (all of it as one when it does not parse)."""
    try:
        statements = [statement.query.strip() for statement in duckdb.extract_statements(sql)]
    except duckdb.Error:
        return [sql.strip()] if sql.strip() else []
    return [statement for statement in statements if statement.rstrip(";").strip()]


def _process_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _process_locks_guard:
        return _process_locks.setdefault(key, threading.Lock())


def _lock_holder(exc: duckdb.Error) -> str | None:
    """Who holds the file, when ``exc`` is DuckDB refusing the file because it is in use."""
    message = str(exc)
    if isinstance(exc, duckdb.IOException) and (
        "Conflicting lock" in message or "Resource temporarily unavailable" in message
    ):
        pid = _LOCK_PID.search(message)
        return f"another process (PID {pid.group(1)})" if pid else "another process"
    if isinstance(exc, duckdb.ConnectionException) and "different configuration" in message:
        return "another connection of this process"
    return None


def _one_line(exc: duckdb.Error) -> str:
    lines: list[str] = []
    for line in str(exc).strip().splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines) or type(exc).__name__


_READ_ONLY_HINT = "this connection is read-only; the warehouse changes only through `calllogs sync`"
_HINTS: tuple[tuple[type[duckdb.Error], str], ...] = (
    (
        duckdb.ConstraintException,
        "a call (room_name) arrived twice or already sits in another partition; every row of a "
        "load must be unique and belong to its (call_date, assistant_id)",
    ),
    (
        duckdb.ConversionException,
        "a value does not fit its column (extra and raw must be valid JSON text)",
    ),
    (
        duckdb.ProgrammingError,
        "check the SQL; `calllogs sql` then `.tables` lists the tables and views",
    ),
    (duckdb.OutOfMemoryException, "DuckDB ran out of memory; load fewer partitions at a time"),
    (
        duckdb.IOException,
        "check that the disk has space and that this user may read and write the file",
    ),
)


def _hint(exc: duckdb.Error) -> str:
    if "read-only mode" in str(exc):
        return _READ_ONLY_HINT
    for kind, hint in _HINTS:
        if isinstance(exc, kind):
            return hint
    return "if it happens again, keep this message and inspect the file with `calllogs sql`"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise WarehouseError(
            f"window_end {moment.isoformat()} has no time zone; pass an aware datetime"
        )
    return moment.astimezone(UTC)


def _conformed(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """``table`` with exactly ``schema``'s columns, in its order and types."""
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise WarehouseError(
            f"{what} lacks the columns {', '.join(missing)}; build it with {schema}"
        )
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise WarehouseError(f"{what} does not match its schema: {exc}") from exc


def _check_partition(table: pa.Table, load: PartitionLoad, what: str) -> None:
    """Every row must belong to the load's partition, or replacing the partition would miss it."""
    if table.num_rows == 0:
        return
    same_day = pc.equal(table["call_date"], pa.scalar(load.call_date, pa.date32()))
    same_assistant = pc.equal(table["assistant_id"], pa.scalar(load.assistant_id, pa.string()))
    belongs = pc.fill_null(pc.and_(same_day, same_assistant), False)
    strays = table.filter(pc.invert(belongs))
    if strays.num_rows:
        first = strays.slice(0, 1).to_pylist()[0]
        raise WarehouseError(
            f"{what} holds {count(strays.num_rows, 'row')} of another partition (first: call_date="
            f"{first['call_date']}, assistant_id={first['assistant_id']}); split rows by the UTC "
            "day of started_at before loading"
        )


def _incoming_tables(loads: Sequence[PartitionLoad]) -> dict[str, pa.Table]:
    """The Arrow tables the load statements scan, one per incoming name, all partitions together."""
    parts: dict[str, list[pa.Table]] = {name: [] for name in INCOMING_SCHEMAS}
    for load in loads:
        label = f"partition {load.call_date.isoformat()}/{load.assistant_id}"
        sources = {
            "incoming_call_logs": load.call_logs,
            "incoming_transcripts": load.transcripts,
            "incoming_rejected_logs": load.rejected_logs,
            "incoming_unreadable_windows": (
                load.unreadable_windows
                if load.unreadable_windows is not None
                else UNREADABLE_WINDOWS_SCHEMA.empty_table()
            ),
        }
        for name, source in sources.items():
            what = f"{label} {name.removeprefix('incoming_')}"
            table = _conformed(source, INCOMING_SCHEMAS[name], what)
            _check_partition(table, load, what)
            parts[name].append(table)
    tables = {name: pa.concat_tables(chunks) for name, chunks in parts.items()}
    tables["incoming_partitions"] = pa.Table.from_pylist(
        [
            {
                "call_date": load.call_date,
                "assistant_id": load.assistant_id,
                "window_end": _utc(load.window_end),
                "api_total": load.api_total,
                "verified_calls": load.verified_calls,
                "requests": load.requests,
                "extracted_at": None if load.extracted_at is None else _utc(load.extracted_at),
            }
            for load in loads
        ],
        schema=PARTITIONS_SCHEMA,
    )
    return tables
