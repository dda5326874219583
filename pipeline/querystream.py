"""One DuckDB statement run on a worker thread, its Arrow batches handed to the caller.

The caller's thread only ever waits in Python (a queue read with a short timeout), so Ctrl-C
reaches it at once as ``KeyboardInterrupt`` whatever DuckDB is doing; it then interrupts the
connection, waits for the worker and raises :class:`QueryCancelled`. (DuckDB's own check for
Ctrl-C is not reliable here: a press that lands while a statement is being set up is lost.)
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pyarrow as pa

from pipeline.errors import QueryCancelled, WarehouseError

# What DuckDB answers for a statement that returns nothing (SET, BEGIN, ATTACH, …).
NO_RESULT = pa.schema({"Success": pa.bool_()})
_POLL_S = 0.1
_END = ("end", None)


class QueryStream:
    """Start with :meth:`start`; read :meth:`schema` then :meth:`batches`; always :meth:`close`."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        statement: str,
        batch_rows: int,
        to_error: Callable[[BaseException], WarehouseError],
    ) -> None:
        self._con = con
        self._statement = statement
        self._batch_rows = batch_rows
        self._to_error = to_error
        self._items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=2)
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._produce, name="calllogs-query", daemon=True)

    def start(self) -> QueryStream:
        self._worker.start()
        return self

    def schema(self) -> pa.Schema | None:
        """The result's schema, None for a statement that returns no rows."""
        kind, value = self._take()
        if kind != "schema":
            raise WarehouseError(f"the query stream answered {kind} before its schema")
        schema: pa.Schema | None = value
        return schema

    def batches(self) -> Iterator[pa.RecordBatch]:
        while True:
            kind, value = self._take()
            if kind == "end":
                return
            yield value

    def close(self) -> None:
        """Stop the statement if it still runs and wait for the worker (Ctrl-C again only
        interrupts again: the connection must not close while the worker still uses it)."""
        self._stopping.set()
        while self._worker.is_alive():
            try:
                self._con.interrupt()
                self._worker.join(_POLL_S)
            except KeyboardInterrupt:
                continue

    # -- the caller's side -----------------------------------------------------------------

    def _take(self) -> tuple[str, Any]:
        try:
            while True:
                try:
                    kind, value = self._items.get(timeout=_POLL_S)
                    break
                except queue.Empty:
                    if not self._worker.is_alive() and self._items.empty():
                        raise WarehouseError("the query stopped without an answer") from None
        except KeyboardInterrupt:
            self.close()
            raise QueryCancelled("query cancelled") from None
        if kind == "error":
            raise self._to_error(value) from value
        return kind, value

    # -- the worker's side -----------------------------------------------------------------

    def _produce(self) -> None:
        try:
            relation = self._con.sql(self._statement)
            if relation is None:
                self._put(("schema", None))
                self._put(_END)
                return
            reader = relation.to_arrow_reader(self._batch_rows)
            if reader.schema.equals(NO_RESULT):
                answer = reader.read_all()
                if answer.num_rows == 0:
                    self._put(("schema", None))
                    self._put(_END)
                    return
                reader = pa.RecordBatchReader.from_batches(answer.schema, answer.to_batches())
            self._put(("schema", reader.schema))
            for batch in reader:
                if not self._put(("batch", batch)):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the caller, who raises it in its own thread
            self._put(("error", exc))

    def _put(self, item: tuple[str, Any]) -> bool:
        """Queue ``item`` unless the caller has stopped listening; False when it has."""
        while not self._stopping.is_set():
            try:
                self._items.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False
