"""The ``call_logs`` table of the kept calls, and beside it their ``transcripts`` table.

Text and timestamp columns come from the fields triage read already; numbers are read here;
``extra`` (``pipeline.normalize.extra``) keeps every other field and what would not fit a column.
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.normalize.columns import Column, bool_column, float64_column, int32_column
from pipeline.normalize.extra import extra_column
from pipeline.normalize.transcripts import read_utterances, transcripts_table
from pipeline.normalize.triage import TEXT_FIELDS, TIMESTAMP_FIELDS, Triage
from pipeline.privacy import PhoneHasher
from pipeline.schemas import CALL_LOGS_SCHEMA, FINAL_STATUSES

_INT_FIELDS: Final = ("sip_status_code", "billable_duration_minutes")
_FLOAT_FIELDS: Final = ("call_duration_minutes",)
_BOOL_FIELDS: Final = ("is_passthrough",)
_UTTERANCES_WORTH_A_THREAD: Final = 50_000  # below, starting a thread costs what it saves
_FINAL_STATUSES: Final = pa.array(sorted(FINAL_STATUSES), type=pa.string())


@dataclass(frozen=True)
class CallTables:
    call_logs: pa.Table
    transcripts: pa.Table
    fields_seen: set[object]  # every top-level key of the kept records


def call_tables(
    triage: Triage, assistant_id: str, fetched: pa.Scalar, hasher: PhoneHasher | None
) -> CallTables:
    records = triage.records
    uncoerced: defaultdict[int, dict[str, object]] = defaultdict(dict)
    arrays: dict[str, pa.Array] = {
        "room_name": triage.room_names,
        "started_at": triage.started,
    }

    def keep(name: str, built: Column) -> None:
        arrays[name] = built.array
        for position, original in built.uncoerced.items():
            uncoerced[position][name] = original

    for name in TEXT_FIELDS:
        keep(name, triage.fields.text(name))
    for name in TIMESTAMP_FIELDS:
        keep(name, triage.fields.timestamp(name))
    for name in _INT_FIELDS:
        keep(name, int32_column(_field(records, name)))
    for name in _FLOAT_FIELDS:
        keep(name, float64_column(_field(records, name)))
    for name in _BOOL_FIELDS:
        keep(name, bool_column(_field(records, name)))
    if hasher is not None:
        arrays["to_number"] = hasher.hash_column(arrays["to_number"])
        for fixes in uncoerced.values():
            if "to_number" in fixes:
                fixes["to_number"] = hasher.hash_value(fixes["to_number"])

    count = len(records)
    arrays["assistant_id"] = pa.repeat(pa.scalar(assistant_id, type=pa.string()), count)
    arrays["call_date"] = triage.started.cast(pa.date32())
    arrays["is_final"] = pc.fill_null(
        pc.is_in(arrays["call_status"], value_set=_FINAL_STATUSES), False
    )
    utterances = read_utterances(_field(records, "transcripts"))
    for position, original in utterances.uncoerced.items():
        uncoerced[position]["transcripts"] = original
    arrays["transcript_turns"] = utterances.turns
    build_transcripts = functools.partial(
        transcripts_table,
        utterances,
        arrays["room_name"],
        arrays["call_date"],
        assistant_id,
        triage.order,
    )
    if len(utterances.nested.values) < _UTTERANCES_WORTH_A_THREAD:
        arrays["extra"], fields_seen = extra_column(records, uncoerced)
        transcripts_rows = build_transcripts()
    else:
        # The transcripts table is Arrow kernels only, which release the GIL: built beside
        # `extra`, which is Python work, it costs little wall time.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="transcripts") as pool:
            transcripts = pool.submit(build_transcripts)
            arrays["extra"], fields_seen = extra_column(records, uncoerced)
            transcripts_rows = transcripts.result()
    arrays["fetched_at"] = pa.repeat(fetched, count)

    call_logs = pa.Table.from_arrays(
        [arrays[field.name] for field in CALL_LOGS_SCHEMA], schema=CALL_LOGS_SCHEMA
    )
    if triage.order is not None:
        call_logs = call_logs.take(triage.order)
    return CallTables(call_logs, transcripts_rows, fields_seen)


def _field(records: list[dict[Any, Any]], name: str) -> list[object]:
    """``record.get(name)`` of every record (a C-level loop)."""
    return list(map(dict.get, records, itertools.repeat(name)))
