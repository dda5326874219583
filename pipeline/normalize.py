"""Raw call-log records -> the three lake tables (``pipeline.schemas``), built column-wise in Arrow.

``normalize_records`` never raises on account of the data: every input record ends up exactly once,
either as a row of ``call_logs`` or as a row of ``rejected_logs`` saying why, and every field of a
kept record survives - in its column, in ``extra``, or, when it could not be coerced to its
column's type, in ``extra["_uncoerced"][field]``.

Quarantined (``rejected_logs.reason``): a record that is not an object; a missing, empty or
non-text ``room_name``; a missing or unparseable ``started_at``; an ``assistant_id`` other than the
queried one (compared as UUID text, ignoring case and surrounding whitespace); and, when a
``room_name`` occurs more than once among the otherwise valid records, every occurrence but the
last. Rules for the columns: ``pipeline.normalize_columns`` (scalar fields),
``pipeline.normalize_transcripts`` (utterances) and ``pipeline.normalize_extra`` (``extra``).
"""

from __future__ import annotations

import functools
import itertools
import reprlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.normalize_columns import (
    Column,
    PhoneHasher,
    TextFields,
    dumps_json,
    float64_column,
    int32_column,
)
from pipeline.normalize_extra import UNCOERCED_KEY, extra_column
from pipeline.normalize_transcripts import read_utterances, transcripts_table
from pipeline.schemas import (
    CALL_LOGS_SCHEMA,
    CONTRACT_FIELDS,
    FINAL_STATUSES,
    KNOWN_EXTRA_FIELDS,
    REJECTED_LOGS_SCHEMA,
    TRANSCRIPTS_SCHEMA,
    UTC_TS,
)

_KEY_FIELDS: Final = ("room_name", "assistant_id")
_TEXT_FIELDS: Final = (
    "assistant_name",
    "to_number",
    "call_status",
    "call_status_reason",
    "sip_status_text",
    "recording_path",
)
_INT_FIELDS: Final = ("sip_status_code", "billable_duration_minutes")
_FLOAT_FIELDS: Final = ("call_duration_minutes",)
_TIMESTAMP_FIELDS: Final = ("answered_at", "ended_at")
_UTTERANCES_WORTH_A_THREAD: Final = 50_000  # below, starting a thread costs what it saves
_FINAL_STATUSES: Final = pa.array(sorted(FINAL_STATUSES), type=pa.string())

__all__ = ["UNCOERCED_KEY", "NormalizedBatch", "normalize_records"]

_shown = reprlib.Repr()
_shown.maxstring = 80
_shown.maxother = 80


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


def normalize_records(
    records: Sequence[Mapping[str, Any]],
    *,
    assistant_id: str,
    fallback_day: date,
    fetched_at: datetime,
    phone_hash_key: bytes | None = None,
) -> NormalizedBatch:
    """Normalise one window of one assistant's records; see the module docstring for the rules.

    ``fallback_day`` is the ``call_date`` of rejected records without a usable ``started_at``;
    with ``phone_hash_key``, every ``to_number`` (column, ``extra``, rejected ``raw``) is replaced
    by ``h:`` + 32 hex digits of its HMAC-SHA256.
    """
    hasher = PhoneHasher(phone_hash_key) if phone_hash_key is not None else None
    fetched = pa.scalar(_as_utc(fetched_at), type=UTC_TS)
    triage = _triage(records, assistant_id)
    calls = _call_tables(triage, assistant_id, fetched, hasher)
    seen = set(calls.fields_seen)
    for rejection in triage.rejections:
        if isinstance(rejection.record, dict):
            seen.update(rejection.record)
    return NormalizedBatch(
        call_logs=calls.call_logs,
        transcripts=calls.transcripts,
        rejected_logs=_rejected_logs(
            triage.rejections, assistant_id, fallback_day, fetched, hasher
        ),
        new_fields=frozenset(
            str(key) for key in seen if key not in CONTRACT_FIELDS and key not in KNOWN_EXTRA_FIELDS
        ),
    )


# --- triage: which records become calls ------------------------------------------------------


@dataclass(frozen=True)
class _Rejection:
    position: int  # index in the input
    record: object
    reason: str
    call_date: date | None  # None: the window's fallback day


@dataclass(frozen=True)
class _Triage:
    records: list[dict[Any, Any]]  # the records that become calls, in input order
    room_names: pa.Array  # of those records
    started: pa.Array  # of those records
    fields: TextFields  # the other text-valued fields of those records
    rejections: list[_Rejection]  # in input order
    order: pa.Array | None  # puts the calls in (started_at, room_name) order; None: they are


def _triage(records: Sequence[object], assistant_id: str) -> _Triage:
    """Split the input into future calls and rejections.

    An Arrow pass clears the ordinary records; only the rest are judged one by one in Python,
    which has the last word.
    """
    objects, positions, rejections = _objects(records)
    fields = TextFields.read(
        objects, [*_KEY_FIELDS, "started_at", *_TEXT_FIELDS, *_TIMESTAMP_FIELDS]
    )
    room_names = fields.strict_text("room_name").array
    started = fields.timestamp("started_at").array
    claimed = fields.strict_text("assistant_id")
    ordinary = pc.and_(
        pc.and_(
            pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(room_names)), 0), False),
            pc.is_valid(started),
        ),
        pc.fill_null(
            pc.or_(pc.is_null(claimed.array), pc.equal(claimed.array, assistant_id)), False
        ),
    )
    suspects = set(pc.indices_nonzero(pc.invert(ordinary)).to_pylist()) | set(claimed.uncoerced)
    started_days = started.cast(pa.date32())
    valid = list(range(len(objects)))
    if suspects:
        queried = assistant_id.strip().lower()
        rejected: set[int] = set()
        for index in sorted(suspects):
            started_ok = started[index].is_valid
            reason = _rejection_reason(objects[index], started_ok, queried, assistant_id)
            if reason is not None:
                rejected.add(index)
                day = started_days[index].as_py()
                rejections.append(_Rejection(positions[index], objects[index], reason, day))
        valid = [index for index in valid if index not in rejected]
    if len(valid) < len(objects):
        chosen = pa.array(valid, type=pa.int64())
        room_names, started = room_names.take(chosen), started.take(chosen)
    kept = _latest_of_each_room(room_names)
    if len(kept) < len(valid):
        superseded = set(range(len(valid))) - set(kept)
        names = room_names.to_pylist()
        for offset in sorted(superseded):
            index = valid[offset]
            reason = f"superseded duplicate of room_name {_shown.repr(names[offset])}"
            day = started_days[index].as_py()
            rejections.append(_Rejection(positions[index], objects[index], reason, day))
        chosen = pa.array(kept, type=pa.int64())
        room_names, started = room_names.take(chosen), started.take(chosen)
        valid = [valid[offset] for offset in kept]
    rejections.sort(key=lambda rejection: rejection.position)
    if len(valid) < len(objects):
        objects, fields = [objects[index] for index in valid], fields.take(valid)
    order = _call_order(started, room_names)
    return _Triage(objects, room_names, started, fields, rejections, order)


def _objects(
    records: Sequence[object],
) -> tuple[list[dict[Any, Any]], list[int], list[_Rejection]]:
    """The records that are JSON objects, their input positions, and the rejections of the rest."""
    if set(map(type, records)) <= {dict}:
        return cast("list[dict[Any, Any]]", list(records)), list(range(len(records))), []
    objects: list[dict[Any, Any]] = []
    positions: list[int] = []
    rejections: list[_Rejection] = []
    for position, record in enumerate(records):
        as_object = _as_dict(record)
        if as_object is None:
            rejections.append(_Rejection(position, record, "record is not a JSON object", None))
        else:
            objects.append(as_object)
            positions.append(position)
    return objects, positions, rejections


def _as_dict(record: object) -> dict[Any, Any] | None:
    if type(record) is dict:
        return record
    if isinstance(record, Mapping):
        try:
            return dict(record)
        except Exception:  # a Mapping that cannot be read is as unusable as a non-object
            return None
    return None


def _rejection_reason(
    record: dict[Any, Any], started_ok: bool, queried: str, assistant_id: str
) -> str | None:
    room_name = record.get("room_name")
    if not isinstance(room_name, str) or not room_name.strip():
        return "missing room_name"
    if not started_ok:
        started_at = record.get("started_at")
        if started_at is None:
            return "missing started_at"
        return f"unparseable started_at: {_shown.repr(started_at)}"
    claimed = record.get("assistant_id")
    if claimed is None or (isinstance(claimed, str) and claimed.strip().lower() == queried):
        return None
    return f"assistant_id mismatch: record has {_shown.repr(claimed)}, queried {assistant_id!r}"


def _call_order(started: pa.Array, room_names: pa.Array) -> pa.Array | None:
    """Offsets that put the calls in (started_at, room_name) order, or None when they are.

    Pages come sorted by ``started_at``, so this is usually None and nothing is reordered. (The
    columns are built in input order either way: Python objects visited out of the order they
    were created in cost twice as much to read.)
    """
    if _in_call_order(started, room_names):
        return None
    return pc.sort_indices(
        pa.table({"started_at": started, "room_name": room_names}),
        sort_keys=[("started_at", "ascending"), ("room_name", "ascending")],
    )


def _in_call_order(started: pa.Array, room_names: pa.Array) -> bool:
    """Whether the calls (all with a ``started_at``) are in order already: one linear pass."""
    micros = started.cast(pa.int64()).to_numpy(zero_copy_only=False)
    steps = np.diff(micros)
    if (steps < 0).any():
        return False
    ties = pa.array(np.flatnonzero(steps == 0))
    if len(ties) == 0:
        return True
    earlier = room_names.take(ties)
    later = room_names.take(pc.add(ties, 1))
    return bool(pc.all(pc.less_equal(earlier, later)).as_py())


def _latest_of_each_room(room_names: pa.Array) -> list[int]:
    """Offsets into ``room_names`` of the last occurrence of each name, ascending."""
    if len(pc.unique(room_names)) == len(room_names):
        return list(range(len(room_names)))
    last_of_room = {name: offset for offset, name in enumerate(room_names.to_pylist())}
    return sorted(last_of_room.values())


# --- call_logs and transcripts ---------------------------------------------------------------


@dataclass(frozen=True)
class _CallTables:
    call_logs: pa.Table
    transcripts: pa.Table
    fields_seen: set[object]  # every top-level key of the kept records


def _call_tables(
    triage: _Triage, assistant_id: str, fetched: pa.Scalar, hasher: PhoneHasher | None
) -> _CallTables:
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

    for name in _TEXT_FIELDS:
        keep(name, triage.fields.text(name))
    for name in _TIMESTAMP_FIELDS:
        keep(name, triage.fields.timestamp(name))
    for name in _INT_FIELDS:
        keep(name, int32_column(_field(records, name)))
    for name in _FLOAT_FIELDS:
        keep(name, float64_column(_field(records, name)))
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
    return _CallTables(call_logs, transcripts_rows, fields_seen)


def _field(records: list[dict[Any, Any]], name: str) -> list[object]:
    """``record.get(name)`` of every record (a C-level loop)."""
    return list(map(dict.get, records, itertools.repeat(name)))


# --- rejected_logs ---------------------------------------------------------------------------


def _rejected_logs(
    rejections: list[_Rejection],
    assistant_id: str,
    fallback_day: date,
    fetched: pa.Scalar,
    hasher: PhoneHasher | None,
) -> pa.Table:
    count = len(rejections)
    raws = [dumps_json(_hide_number(rejection.record, hasher)) for rejection in rejections]
    return pa.Table.from_arrays(
        [
            pa.repeat(pa.scalar(assistant_id, type=pa.string()), count),
            pa.array(
                [rejection.call_date or fallback_day for rejection in rejections], pa.date32()
            ),
            pa.array([rejection.reason for rejection in rejections], type=pa.string()),
            pa.array(raws, type=pa.string()),
            pa.repeat(fetched, count),
        ],
        schema=REJECTED_LOGS_SCHEMA,
    )


def _hide_number(record: object, hasher: PhoneHasher | None) -> object:
    if hasher is None or not isinstance(record, dict) or "to_number" not in record:
        return record
    return {**record, "to_number": hasher.hash_value(record["to_number"])}


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
