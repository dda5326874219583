"""The result of normalising one window: the three lake tables of the same calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.schemas import CALL_LOGS_SCHEMA, REJECTED_LOGS_SCHEMA, TRANSCRIPTS_SCHEMA


@dataclass(frozen=True)
class NormalizedBatch:
    call_logs: pa.Table  # CALL_LOGS_SCHEMA, sorted by (started_at, room_name)
    transcripts: pa.Table  # TRANSCRIPTS_SCHEMA, in call_logs order, then by turn_index
    rejected_logs: pa.Table  # REJECTED_LOGS_SCHEMA, in input order
    new_fields: frozenset[str] = frozenset()  # top-level fields neither documented nor known

    def for_day(self, day: date) -> NormalizedBatch:
        """The rows of one ``call_date`` in all three tables."""
        wanted = pa.scalar(day, type=pa.date32())
        return NormalizedBatch(
            call_logs=_rows_of_day(self.call_logs, wanted),
            transcripts=_rows_of_day(self.transcripts, wanted),
            rejected_logs=_rows_of_day(self.rejected_logs, wanted),
            new_fields=self.new_fields,
        )

    @property
    def days(self) -> list[date]:
        """Every ``call_date`` present in any of the three tables, ascending."""
        found: set[date] = set()
        for table in (self.call_logs, self.transcripts, self.rejected_logs):
            found.update(pc.unique(table["call_date"]).to_pylist())
        return sorted(found)

    @classmethod
    def concat(cls, batches: Sequence[NormalizedBatch]) -> NormalizedBatch:
        """Batches of disjoint calls (e.g. the parts of one day) as one, in the batches' order."""
        if not batches:
            return cls.empty()
        if len(batches) == 1:
            return batches[0]
        call_logs = pa.concat_tables([b.call_logs for b in batches]).sort_by(
            [("started_at", "ascending"), ("room_name", "ascending")]
        )
        transcripts = pa.concat_tables([b.transcripts for b in batches])
        call_position = pc.index_in(transcripts["room_name"], value_set=call_logs["room_name"])
        order = pc.sort_indices(
            pa.table({"call": call_position, "turn": transcripts["turn_index"]}),
            sort_keys=[("call", "ascending"), ("turn", "ascending")],
        )
        return cls(
            call_logs=call_logs,
            transcripts=transcripts.take(order),
            rejected_logs=pa.concat_tables([b.rejected_logs for b in batches]),
            new_fields=frozenset().union(*(b.new_fields for b in batches)),
        )

    @classmethod
    def empty(cls) -> NormalizedBatch:
        return cls(
            call_logs=CALL_LOGS_SCHEMA.empty_table(),
            transcripts=TRANSCRIPTS_SCHEMA.empty_table(),
            rejected_logs=REJECTED_LOGS_SCHEMA.empty_table(),
        )


def _rows_of_day(table: pa.Table, day: pa.Scalar) -> pa.Table:
    return table.filter(pc.equal(table["call_date"], day))
