"""Which records become calls, which are quarantined and why, and the calls' order.

Quarantined (``rejected_logs.reason``): a record that is not an object; a missing, empty or
non-text ``room_name``; a missing or unparseable ``started_at``; an ``assistant_id`` other than the
queried one (compared as UUID text, ignoring case and surrounding whitespace); and, when a
``room_name`` occurs more than once among the otherwise valid records, every occurrence but the
last. The text fields of the kept records are read here once (``TextFields``), for the keys'
sake, and handed on so the columns are not read twice.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.normalize.columns import TextFields

KEY_FIELDS: Final = ("room_name", "assistant_id")
TEXT_FIELDS: Final = (
    "assistant_name",
    "to_number",
    "call_status",
    "call_status_reason",
    "sip_status_text",
    "recording_path",
    "call_type",
    "call_service",
    "call_end_reason",
    "queue_id",
    "platform_number",
)
TIMESTAMP_FIELDS: Final = ("answered_at", "ended_at", "agent_ready_at")

_shown = reprlib.Repr()
_shown.maxstring = 80
_shown.maxother = 80


@dataclass(frozen=True)
class Rejection:
    position: int  # index in the input
    record: object
    reason: str
    call_date: date | None  # None: the window's fallback day


@dataclass(frozen=True)
class Triage:
    records: list[dict[Any, Any]]  # the records that become calls, in input order
    room_names: pa.Array  # of those records
    started: pa.Array  # of those records
    fields: TextFields  # the other text-valued fields of those records
    rejections: list[Rejection]  # in input order
    order: pa.Array | None  # puts the calls in (started_at, room_name) order; None: they are


def triage(records: Sequence[object], assistant_id: str) -> Triage:
    """Split the input into future calls and rejections.

    An Arrow pass clears the ordinary records; only the rest are judged one by one in Python,
    which has the last word.
    """
    objects, positions, rejections = _objects(records)
    fields = TextFields.read(objects, [*KEY_FIELDS, "started_at", *TEXT_FIELDS, *TIMESTAMP_FIELDS])
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
                rejections.append(Rejection(positions[index], objects[index], reason, day))
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
            rejections.append(Rejection(positions[index], objects[index], reason, day))
        chosen = pa.array(kept, type=pa.int64())
        room_names, started = room_names.take(chosen), started.take(chosen)
        valid = [valid[offset] for offset in kept]
    rejections.sort(key=lambda rejection: rejection.position)
    if len(valid) < len(objects):
        objects, fields = [objects[index] for index in valid], fields.take(valid)
    order = _call_order(started, room_names)
    return Triage(objects, room_names, started, fields, rejections, order)


def _objects(
    records: Sequence[object],
) -> tuple[list[dict[Any, Any]], list[int], list[Rejection]]:
    """The records that are JSON objects, their input positions, and the rejections of the rest."""
    if set(map(type, records)) <= {dict}:
        return cast("list[dict[Any, Any]]", list(records)), list(range(len(records))), []
    objects: list[dict[Any, Any]] = []
    positions: list[int] = []
    rejections: list[Rejection] = []
    for position, record in enumerate(records):
        as_object = _as_dict(record)
        if as_object is None:
            rejections.append(Rejection(position, record, "record is not a JSON object", None))
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
