"""The ``transcripts`` list of every call -> one row per utterance.

Rules: a list gives one row per element, ``turn_index`` being its 0-based position; ``null`` or a
missing list gives none; any other value gives none and is handed back as uncoerced so the call's
``extra`` keeps it. An element that is not an object still gets its row: speaker null, role
``other``, text = its JSON. ``speaker`` is kept as sent (non-text as JSON text); ``role`` is
``agent`` for assistant/agent, ``user`` for user, ``other`` for anything else (case and surrounding
whitespace ignored). ``text`` is kept as sent (non-text as JSON text). ``spoken_at`` is the parsed
``timestamp``; one that is not an ISO 8601 text becomes null (the original is not kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.jsontext import clean_text, dumps_json
from pipeline.normalize.columns import ARROW_CONVERSION_ERRORS
from pipeline.schemas import TRANSCRIPTS_SCHEMA
from pipeline.timeparse import parse_timestamp_strings

_UTTERANCE: Final = pa.struct(
    [("speaker", pa.string()), ("text", pa.string()), ("timestamp", pa.string())]
)
_UTTERANCES: Final = pa.list_(_UTTERANCE)
_AGENT_SPEAKERS: Final = pa.array(["assistant", "agent"], type=pa.string())
_LIST_OR_NONE: Final = frozenset({list, type(None)})


@dataclass(frozen=True)
class Utterances:
    """Every call's utterances, read into Arrow (in the calls' input order)."""

    nested: pa.ListArray  # one list per call, null where the call has none
    turns: pa.Int32Array  # utterances per call
    uncoerced: dict[int, object]  # call position -> a ``transcripts`` value that is not a list


def read_utterances(lists: Sequence[object]) -> Utterances:
    """``lists[i]`` is call i's raw ``transcripts``. Reads Python objects: holds the GIL."""
    uncoerced: dict[int, object] = {}
    if not set(map(type, lists)) <= _LIST_OR_NONE:
        uncoerced = {
            position: value
            for position, value in enumerate(lists)
            if value is not None and type(value) is not list
        }
    calls_utterances = cast("list[list[object] | None]", lists)
    if uncoerced:
        calls_utterances = [value if type(value) is list else None for value in lists]
    nested = _utterance_lists(calls_utterances)
    turns = pc.fill_null(pc.list_value_length(nested), 0).cast(pa.int32())
    return Utterances(nested=nested, turns=turns, uncoerced=uncoerced)


def transcripts_table(
    utterances: Utterances,
    room_names: pa.Array,
    call_dates: pa.Array,
    assistant_id: str,
    order: pa.Array | None = None,
) -> pa.Table:
    """One row per utterance; room names are unique among the calls.

    The rows come in the calls' order (``order`` applied, when given), each call's by
    ``turn_index``. Arrow kernels only, which release the GIL: this can run beside Python work.
    """
    nested = utterances.nested
    if order is not None:
        nested, room_names, call_dates = (
            nested.take(order),
            room_names.take(order),
            call_dates.take(order),
        )
    flat = nested.flatten()
    parents = pc.list_parent_indices(nested)
    starts = np.asarray(nested.offsets)[:-1]
    turn_index = np.arange(len(flat), dtype=np.int64) - starts[np.asarray(parents)]
    speakers = flat.field("speaker")
    return pa.Table.from_arrays(
        [
            room_names.take(parents),
            call_dates.take(parents),
            pa.repeat(pa.scalar(assistant_id, pa.string()), len(flat)),
            pa.array(turn_index.astype(np.int32), type=pa.int32()),
            speakers,
            _roles(speakers),
            flat.field("text"),
            parse_timestamp_strings(flat.field("timestamp")),
        ],
        schema=TRANSCRIPTS_SCHEMA,
    )


def _utterance_lists(lists: Sequence[list[object] | None]) -> pa.ListArray:
    # One C++ conversion takes the ordinary case. It fails on a speaker, text or timestamp that is
    # not text and on elements that are not objects, except null, which it would read as a null
    # utterance: those batches are converted element by element. (It would also read a tuple as
    # an utterance's fields in order, but decoded JSON has no tuples.)
    try:
        nested = pa.array(lists, type=_UTTERANCES)
    except ARROW_CONVERSION_ERRORS:
        pass
    else:
        if nested.values.null_count == 0:
            return nested
    return pa.array(
        [None if value is None else [_utterance(item) for item in value] for value in lists],
        type=_UTTERANCES,
    )


def _utterance(item: object) -> dict[str, str | None]:
    if not isinstance(item, dict):
        return {"speaker": None, "text": dumps_json(item), "timestamp": None}
    timestamp = item.get("timestamp")
    return {
        "speaker": _as_text(item.get("speaker")),
        "text": _as_text(item.get("text")),
        "timestamp": clean_text(timestamp) if isinstance(timestamp, str) else None,
    }


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value)
    return dumps_json(value)


def _roles(speakers: pa.Array) -> pa.Array:
    spoken_as = pc.utf8_lower(pc.utf8_trim_whitespace(speakers))
    role = pc.if_else(
        pc.is_in(spoken_as, value_set=_AGENT_SPEAKERS),
        "agent",
        pc.if_else(pc.equal(spoken_as, "user"), "user", "other"),
    )
    return pc.fill_null(role, "other")
