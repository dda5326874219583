"""Bring a warehouse made by an older version to the current schema: once, in place, exactly.

``CREATE TABLE IF NOT EXISTS`` (``sql/schema``) adds new tables but never a column to an existing
one. A migration here adds the columns, fills them from what the warehouse already holds, and
recomputes what is derived from them, inside the caller's transaction; a warehouse that has them
is left alone, so applying the schema stays idempotent.

- **Promoted fields** (wave 2): ``call_type``, ``agent_ready_at`` and the other
  ``PROMOTED_FIELDS`` had no column and lived in ``call_logs.extra``. They are moved into their
  columns day by day with the normaliser's own rules (``pipeline.normalize.promote``), so each row
  equals what a fresh sync would store; then every metric row is recomputed and
  ``call_status_history`` is seeded with each call's current status.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import duckdb
import pyarrow as pa

from pipeline.schemas import PROMOTED_FIELDS
from pipeline.sqlfiles import read_sql
from pipeline.wording import count

LOGGER = logging.getLogger(__name__)


def migrate(con: duckdb.DuckDBPyConnection, *, recompute: Sequence[str]) -> list[str]:
    """Apply what the warehouse lacks; ``recompute`` are the metric steps (``sql/`` names) that
    rebuild the derived rows of ``affected_partitions``. Returns the migrations applied."""
    applied: list[str] = []
    if not _has_column(con, "call_logs", PROMOTED_FIELDS[0]):
        _promote_fields(con, recompute)
        applied.append("promoted fields")
    return applied


def _promote_fields(con: duckdb.DuckDBPyConnection, recompute: Sequence[str]) -> None:
    # Imported here: the normaliser (and the pandas pyarrow loads with it) only for a migration,
    # not for every process that opens a warehouse.
    from pipeline.normalize.promote import promote_fields  # noqa: PLC0415

    _run_script(con, "migrations/add_promoted_columns.sql")
    days = [row[0] for row in con.execute(read_sql("migrations/call_days.sql")).fetchall()]
    calls_of_day = read_sql("migrations/calls_of_day.sql")
    fill = read_sql("migrations/fill_promoted_columns.sql")
    for day in days:  # a day at a time keeps memory flat however long the history
        stored = con.sql(calls_of_day, params={"day": day}).to_arrow_table()
        columns, extra = promote_fields(stored["extra"])
        promoted = pa.table({"room_name": stored["room_name"], **columns, "extra": extra})
        con.register("promoted_calls", promoted)
        try:
            con.execute(fill)
        finally:
            con.unregister("promoted_calls")
    con.execute(read_sql("migrations/all_partitions.sql"))
    for step in recompute:
        con.execute(read_sql(step))
    con.execute(read_sql("migrations/seed_call_status_history.sql"))
    LOGGER.info(
        "warehouse: moved %s out of extra on %s",
        ", ".join(PROMOTED_FIELDS),
        count(len(days), "day"),
    )


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    params = {"table_name": table, "column_name": column}
    found = con.execute(read_sql("migrations/has_column.sql"), params).fetchone()
    return bool(found and found[0])


def _run_script(con: duckdb.DuckDBPyConnection, name: str) -> None:
    for statement in duckdb.extract_statements(read_sql(name)):
        con.execute(statement)
