"""Fields that gained a column: moved out of ``extra`` of rows normalised before they had one.

Lake files and warehouse rows written before wave 2 kept ``PROMOTED_FIELDS`` in ``extra``. Moving
them uses the normaliser's own column builders, and the ``extra`` left behind is written as the
normaliser writes it (keys sorted; a value that does not fit its column under ``_uncoerced``), so
a promoted row equals the row the current normaliser makes of the same record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Final

import orjson
import pyarrow as pa

from pipeline.jsontext import dumps_json
from pipeline.normalize.columns import Column, bool_column, string_column, timestamp_column
from pipeline.normalize.extra import UNCOERCED_KEY
from pipeline.schemas import CALL_LOGS_SCHEMA, PROMOTED_FIELDS, UTC_TS

# The normaliser's builder for each column type the promoted fields have (text otherwise).
_BUILDER_OF_TYPE: Final[dict[pa.DataType, Callable[[Sequence[object]], Column]]] = {
    UTC_TS: timestamp_column,
    pa.bool_(): bool_column,
}
_BUILDERS: Final = {
    name: _BUILDER_OF_TYPE.get(CALL_LOGS_SCHEMA.field(name).type, string_column)
    for name in PROMOTED_FIELDS
}


def promote_fields(extra: pa.Array) -> tuple[dict[str, pa.Array], pa.Array]:
    """The promoted columns read from each row's ``extra`` JSON, and the ``extra`` left.

    An ``extra`` that is not a JSON object (the normaliser never writes one) is left as it is.
    """
    texts: list[str | None] = extra.to_pylist()
    objects = [_loads(text) for text in texts]
    columns: dict[str, pa.Array] = {}
    for name in PROMOTED_FIELDS:
        values = [None if found is None else found.pop(name, None) for found in objects]
        built = _BUILDERS[name](values)
        columns[name] = built.array
        for position, original in built.uncoerced.items():
            found = objects[position]
            if found is not None:
                found.setdefault(UNCOERCED_KEY, {})[name] = original
    kept = [
        text if found is None else (dumps_json(found) if found else "{}")
        for text, found in zip(texts, objects, strict=True)
    ]
    return columns, pa.array(kept, type=pa.string())


def with_promoted_fields(table: pa.Table) -> pa.Table:
    """``table`` with the promoted columns filled from ``extra`` and removed from it."""
    columns, extra = promote_fields(table["extra"])
    promoted = table.set_column(table.column_names.index("extra"), "extra", extra)
    for name, array in columns.items():
        if name in promoted.column_names:
            promoted = promoted.drop_columns([name])
        promoted = promoted.append_column(name, array)
    return promoted


def _loads(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # integers beyond 64 bits, written by the standard library
        value = json.loads(text)
    return value if isinstance(value, dict) else None
