"""Dagster's SQLite event log, with batches written as batches.

A range run of the sync job writes, per asset and partition, a "materialization planned" event and
a materialisation event. Dagster hands both kinds over in batches (``DAGSTER_EVENT_BATCH_SIZE``;
the planned events of a run are one batch, the materialisations of one asset output another), but
``SqliteEventLogStorage`` inherits the base ``store_event_batch``, which stores them one by one:
a new SQLAlchemy engine, connection and committed transaction on the run's shard, and another on
the index shard, per event. This subclass writes a batch in one transaction per shard and is
otherwise the same storage (the same files, so an existing ``DAGSTER_HOME`` keeps its history).

Configured in ``dagster.yaml``::

    event_log_storage:
      module: dagster_project.event_log
      class: BatchingSqliteEventLogStorage
      config:
        dagster_home: {env: DAGSTER_HOME}
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy.exc as db_exc
from dagster._config import StringSource
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import AssetKeyTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._serdes import ConfigurableClassData


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` under ``$DAGSTER_HOME/history/runs`` with batched writes."""

    def __init__(self, dagster_home: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._dagster_home = dagster_home
        super().__init__(os.path.join(dagster_home, "history", "runs", ""), inst_data=inst_data)

    @classmethod
    def config_type(cls) -> Mapping[str, Any]:
        return {"dagster_home": StringSource}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> BatchingSqliteEventLogStorage:
        return cls(str(config_value["dagster_home"]), inst_data=inst_data)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """One transaction on each run's shard and one on the index for the asset events; events
        the base class mirrors elsewhere (asset checks) are stored one by one, as before."""
        simple: list[EventLogEntry] = []
        other: list[EventLogEntry] = []
        for event in events:
            kind = event.dagster_event_type if event.is_dagster_event else None
            (simple if kind in ASSET_EVENTS else other).append(event)
        by_run: defaultdict[str, list[EventLogEntry]] = defaultdict(list)
        for event in simple:
            by_run[event.run_id].append(event)
        for run_id, run_events in by_run.items():
            statements = [self.prepare_insert_event(event) for event in run_events]
            with self.run_connection(run_id) as conn:
                for statement in statements:
                    conn.execute(statement)
            with self.index_transaction() as conn:
                ids = [_inserted_id(conn.execute(statement)) for statement in statements]
                self._store_asset_event_tags(conn, run_events, ids)
                self._store_asset_entries(conn, run_events, ids)
        for event in other:
            self.store_event(event)

    def _store_asset_entries(
        self, conn: Any, events: Sequence[EventLogEntry], ids: Sequence[int]
    ) -> None:
        """Each asset key's row as storing the events one by one leaves it, in one upsert per key.

        One by one, every event overwrites the row's columns its kind sets (a materialisation:
        the last materialisation, run and time; a planned one: the run and time), so the row ends
        with, per column, the value of the batch's last event that sets it: the last event of
        each kind per key, applied in order, gives exactly that. Dagster serialises the whole
        event record for a materialisation's row, so this is where a batch's time went.
        """
        last: dict[tuple[str, str], tuple[int, EventLogEntry, int]] = {}
        for position, (event, event_id) in enumerate(zip(events, ids, strict=True)):
            dagster_event = event.dagster_event
            if dagster_event is None or dagster_event.asset_key is None:
                continue
            kind = (dagster_event.asset_key.to_string(), dagster_event.event_type_value)
            last[kind] = (position, event, event_id)
        has_index_columns = self._has_asset_key_index_cols_on_connection(conn)
        merged: dict[str, dict[str, Any]] = {}
        for (key, _), (_, event, event_id) in sorted(last.items(), key=lambda item: item[1][0]):
            values = self._get_asset_entry_values(event, event_id, has_index_columns)
            if values:
                merged.setdefault(key, {}).update(values)
        for key, values in merged.items():
            try:
                conn.execute(AssetKeyTable.insert().values(asset_key=key, **values))
            except db_exc.IntegrityError:
                conn.execute(
                    AssetKeyTable.update().values(**values).where(AssetKeyTable.c.asset_key == key)
                )


def _inserted_id(result: Any) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the event log did not return the id of an event it stored")
    return int(key[0])
