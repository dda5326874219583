"""The ``extra`` column: every top-level field without a column of its own, as a JSON object.

Values go in as received (nested objects such as ``usage`` included), keys sorted. Values that
could not be coerced to their column's type are added under ``"_uncoerced": {field: original}``.
A record's own ``_uncoerced`` field cannot keep its name, so it is filed like any other value that
found no place: under ``_uncoerced["_uncoerced"]``. A record with nothing extra gets ``"{}"``.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Final, cast

import orjson
import pyarrow as pa

from pipeline.jsontext import dumps_json
from pipeline.schemas import CONTRACT_FIELDS

UNCOERCED_KEY: Final = "_uncoerced"


def extra_column(
    records: Sequence[dict[Any, Any]], uncoerced: Mapping[int, dict[str, object]]
) -> tuple[pa.Array, set[object]]:
    """The ``extra`` JSON of every record, and every top-level key seen."""
    layouts = {keys: _layout(keys) for keys in set(map(tuple, records))}
    seen: set[object] = set().union(*layouts)
    texts: list[str] | None = None
    if len(layouts) == 1:
        texts = _texts_of_one_layout(records, next(iter(layouts.values())))
    if texts is None:
        texts = [_extra_text(record, layouts[tuple(record)], None) for record in records]
    for position, fixes in uncoerced.items():
        record = records[position]
        texts[position] = _extra_text(record, layouts[tuple(record)], fixes)
    return pa.array(texts, type=pa.string()), seen


def _texts_of_one_layout(records: Sequence[dict[Any, Any]], layout: _Layout) -> list[str] | None:
    """All records have the same keys: a C-level pipeline, or None to go record by record."""
    if layout.has_own_uncoerced:
        return None
    if not layout.extra_keys:
        return ["{}"] * len(records)
    dicts, dumps = map(layout.extra_of, records), orjson.dumps
    try:
        return [dumps(extra, option=orjson.OPT_SORT_KEYS).decode() for extra in dicts]
    except (TypeError, ValueError, RecursionError):
        return None  # something orjson refuses; dumps_json knows what to do with it


def _extra_text(record: dict[Any, Any], layout: _Layout, fixes: dict[str, object] | None) -> str:
    if layout.has_own_uncoerced:
        fixes = {**(fixes or {}), UNCOERCED_KEY: record[UNCOERCED_KEY]}
    if not layout.extra_keys and not fixes:
        return "{}"
    extra = dict(zip(layout.extra_keys, layout.values(record), strict=True))
    if fixes:
        extra[UNCOERCED_KEY] = fixes
    return dumps_json(extra)


class _Layout:
    """Which keys of records with exactly these keys (in this order) go to ``extra``."""

    def __init__(self, keys: tuple[object, ...]) -> None:
        self.extra_keys = tuple(
            key for key in keys if key not in CONTRACT_FIELDS and key != UNCOERCED_KEY
        )
        self.has_own_uncoerced = UNCOERCED_KEY in keys
        self.values: Callable[[dict[Any, Any]], tuple[object, ...]] = _getter(self.extra_keys)

    @functools.cached_property
    def extra_of(self) -> Callable[[dict[Any, Any]], dict[Any, Any]]:
        return _extra_builder(self.extra_keys)


@functools.lru_cache(maxsize=64)
def _layout(keys: tuple[object, ...]) -> _Layout:
    """The layout of these keys (a window's records nearly always share one)."""
    return _Layout(keys)


def _getter(keys: tuple[object, ...]) -> Callable[[dict[Any, Any]], tuple[object, ...]]:
    if len(keys) > 1:
        return itemgetter(*keys)
    if len(keys) == 1:
        only = itemgetter(keys[0])
        return lambda record: (only(record),)
    return lambda record: ()


def _extra_builder(keys: tuple[object, ...]) -> Callable[[dict[Any, Any]], dict[Any, Any]]:
    """``lambda record: {key: record[key], ...}`` for these keys, sorted.

    A dict display with constant keys builds the dict in one step: a third faster than
    ``dict(zip(keys, values))``, which is most of the cost of ``extra``. Compiled from a syntax
    tree whose keys are constants, so no key is ever read as code. Keys that are not text
    (impossible in decoded JSON) take the generic route.
    """
    if not all(isinstance(key, str) for key in keys):
        values = _getter(keys)
        return lambda record: dict(zip(keys, values(record), strict=True))
    record = ast.Name("record", ast.Load())
    display = ast.Dict(
        keys=[ast.Constant(key) for key in sorted(cast("tuple[str, ...]", keys))],
        values=[
            ast.Subscript(record, ast.Constant(key), ast.Load())
            for key in sorted(cast("tuple[str, ...]", keys))
        ],
    )
    parameters = ast.arguments(
        posonlyargs=[], args=[ast.arg("record")], kwonlyargs=[], kw_defaults=[], defaults=[]
    )
    tree = ast.fix_missing_locations(ast.Expression(ast.Lambda(parameters, display)))
    built: Callable[[dict[Any, Any]], dict[Any, Any]] = eval(  # noqa: S307 - constants only
        compile(tree, "<extra builder>", "eval"), {"__builtins__": {}}
    )
    return built
