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

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.normalize_columns import ARROW_CONVERSION_ERRORS, clean_text, dumps_json
from pipeline.schemas import TRANSCRIPTS_SCHEMA
from pipeline.timeparse import parse_timestamp_strings

_UTTERANCE: Final = pa.struct(
    [("speaker", pa.string()), ("text", pa.string()), ("timestamp", pa.string())]
)
_UTTERANCES: Final = pa.list_(_UTTERANCE)
_AGENT_SPEAKERS: Final = pa.array(["assistant", "agent"], type=pa.string())
_LIST_OR_NONE: Final = frozenset({list, type(None)})


@dataclass(frozen=True)
class Transcripts:
    table: pa.Table  # TRANSCRIPTS_SCHEMA, in the calls' order, then by turn_index
    turns: pa.Int32Array  # utterances per call, in the calls' input order
    uncoerced: dict[int, object]  # call position -> a ``transcripts`` value that is not a list


def build_transcripts(
    lists: Sequence[object],
    room_names: pa.Array,
    call_dates: pa.Array,
    assistant_id: str,
    order: pa.Array | None = None,
) -> Transcripts:
    """``lists[i]`` is call i's raw ``transcripts``; room names are unique among the calls.

    The utterances come out in the calls' order (``order`` applied, when given), each call's by
    ``turn_index``; ``turns`` stays in input order.
    """
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
    if order is not None:
        nested, room_names, call_dates = (
            nested.take(order),
            room_names.take(order),
            call_dates.take(order),
        )
    utterances = nested.flatten()
    parents = pc.list_parent_indices(nested)
    starts = np.asarray(nested.offsets)[:-1]
    turn_index = np.arange(len(utterances), dtype=np.int64) - starts[np.asarray(parents)]

    speakers = utterances.field("speaker")
    table = pa.Table.from_arrays(
        [
            room_names.take(parents),
            call_dates.take(parents),
            pa.repeat(pa.scalar(assistant_id, pa.string()), len(utterances)),
            pa.array(turn_index.astype(np.int32), type=pa.int32()),
            speakers,
            _roles(speakers),
            utterances.field("text"),
            parse_timestamp_strings(utterances.field("timestamp")),
        ],
        schema=TRANSCRIPTS_SCHEMA,
    )
    return Transcripts(table=table, turns=turns, uncoerced=uncoerced)


def _utterance_lists(lists: Sequence[list[object] | None]) -> pa.ListArray:
    # pyarrow would read a list of (key, value) pairs, or null, as an utterance: only plain
    # objects may take the one-shot conversion.
    elements = itertools.chain.from_iterable(filter(None, lists))
    if set(map(type, elements)) <= {dict}:
        try:
            return pa.array(lists, type=_UTTERANCES)
        except ARROW_CONVERSION_ERRORS:
            pass  # a speaker, text or timestamp that is not text
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
