"""One field across many records -> one typed Arrow column, plus the values that would not fit.

Every builder tries one C++ conversion first and coerces value by value only when that fails.
The fast paths are guarded by the set of Python types present, because pyarrow itself would
silently turn ``True`` into ``1.0`` or truncate ``1.5`` to ``1``. A value that cannot be coerced
becomes null and is returned in ``Column.uncoerced`` so the caller can keep the original.

Coercion where the meaning is clear: integers from integral floats (``486.0``) and from integer
or integral decimal text (``" 486 "``, ``"486.0"``); floats from integers and decimal text; text
from integers (but never for the key fields, see ``strict_text_column``). Booleans are never
numbers or text, and only booleans are booleans; non-finite text (``"nan"``, ``"1e999"``) is not
a number; non-finite floats stay as they are. Text with lone surrogates (possible only from a
lenient JSON decoder) is stored with U+FFFD in their place.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.jsontext import clean_text
from pipeline.timeparse import parse_timestamp_strings, parse_timestamps_with_errors

_NONE_TYPE: Final = type(None)
_TEXT_TYPES: Final = frozenset({str, _NONE_TYPE})
_INT_TYPES: Final = frozenset({int, _NONE_TYPE})
_FLOAT_TYPES: Final = frozenset({float, int, _NONE_TYPE})
_FLOAT_READY: Final[frozenset[type]] = frozenset({float, _NONE_TYPE})
_BOOL_TYPES: Final[frozenset[type]] = frozenset({bool, _NONE_TYPE})
_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1
_MAX_NUMBER_TEXT: Final = 64  # longer "numbers" are junk; also keeps int() far from its digit limit
_INTEGER_TEXT: Final = re.compile(r"[+-]?\d+", re.ASCII)
_DECIMAL_TEXT: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
ARROW_CONVERSION_ERRORS: Final = (pa.ArrowException, TypeError, ValueError, OverflowError)


class _Uncoercible:
    """Marker for a value that has no meaning in the column's type."""


_FAIL: Final = _Uncoercible()


@dataclass(frozen=True)
class Column:
    array: pa.Array
    uncoerced: dict[int, object] = field(default_factory=dict)  # row position -> original value


class TextFields:
    """Text-valued fields of many records, read in one C++ pass when they all are text or null.

    Otherwise each field's raw values are kept for the per-value builders. Either way the rows
    can be narrowed (``take``) before the columns are built, which is cheaper than narrowing
    every column afterwards.
    """

    def __init__(
        self, names: Sequence[str], struct: pa.StructArray | None, raw: dict[str, list[object]]
    ) -> None:
        self._names = list(names)
        self._struct = struct
        self._raw = raw

    @classmethod
    def read(cls, records: Sequence[dict[Any, Any]], names: Sequence[str]) -> TextFields:
        try:
            struct = pa.array(records, type=pa.struct([(name, pa.string()) for name in names]))
        except ARROW_CONVERSION_ERRORS:
            return cls(
                names, None, {name: [record.get(name) for record in records] for name in names}
            )
        return cls(names, struct, {})

    def take(self, rows: Sequence[int]) -> TextFields:
        if self._struct is not None:
            return TextFields(self._names, self._struct.take(pa.array(rows, pa.int64())), {})
        return TextFields(
            self._names,
            None,
            {name: list(map(values.__getitem__, rows)) for name, values in self._raw.items()},
        )

    def text(self, name: str) -> Column:
        """Text; integers become their digits."""
        if self._struct is not None:
            return Column(self._struct.field(name))
        return string_column(self._raw[name])

    def strict_text(self, name: str) -> Column:
        """Text only (for keys)."""
        if self._struct is not None:
            return Column(self._struct.field(name))
        return strict_text_column(self._raw[name])

    def timestamp(self, name: str) -> Column:
        if self._struct is not None:
            return _parsed_text(self._struct.field(name))
        return timestamp_column(self._raw[name])


def string_column(values: Sequence[object]) -> Column:
    if set(map(type, values)) <= _TEXT_TYPES:
        try:
            return Column(pa.array(values, type=pa.string()))
        except UnicodeEncodeError:
            pass  # a lone surrogate; the per-value path repairs it
    return _coerce_each(values, _as_text, pa.string())


def strict_text_column(values: Sequence[object]) -> Column:
    """Text only: for keys, where ``5`` and ``"5"`` must not be taken for the same thing."""
    if set(map(type, values)) <= _TEXT_TYPES:
        try:
            return Column(pa.array(values, type=pa.string()))
        except UnicodeEncodeError:
            pass
    return _coerce_each(values, _as_strict_text, pa.string())


def int32_column(values: Sequence[object]) -> Column:
    if set(map(type, values)) <= _INT_TYPES:
        return _int32_in_range(values, {})
    # Python ints pass as they are (their range is checked in Arrow); the rest are coerced.
    converted = [value if type(value) in _INT_TYPES else _as_int32(value) for value in values]
    failed = _failures(converted)
    for position in failed:
        converted[position] = None
    return _int32_in_range(converted, {position: values[position] for position in failed})


def _int32_in_range(values: Sequence[object], uncoerced: dict[int, object]) -> Column:
    """Python ints (or None) -> int32; values outside its range join ``uncoerced``."""
    try:
        wide = pa.array(values, type=pa.int64())
    except ARROW_CONVERSION_ERRORS:  # beyond 64 bits: judge every value on its own
        return _coerce_each(values, _as_int32, pa.int32(), original=uncoerced)
    inside = pc.and_(pc.greater_equal(wide, _INT32_MIN), pc.less_equal(wide, _INT32_MAX))
    if not pc.all(inside).as_py():
        for position in pc.indices_nonzero(pc.invert(pc.fill_null(inside, True))).to_pylist():
            uncoerced.setdefault(position, values[position])
        wide = pc.if_else(inside, wide, pa.scalar(None, type=pa.int64()))
    return Column(wide.cast(pa.int32()), uncoerced)


def float64_column(values: Sequence[object]) -> Column:
    if set(map(type, values)) <= _FLOAT_TYPES:
        try:
            return Column(pa.array(values, type=pa.float64()))
        except ARROW_CONVERSION_ERRORS:
            pass  # an int too large for an exact double; the per-value path rounds it
    return _coerce_each(values, _as_float, pa.float64(), ready=_FLOAT_READY)


def bool_column(values: Sequence[object]) -> Column:
    """JSON booleans only: ``1``, ``"true"`` and the like are kept as they came, uncoerced."""
    if set(map(type, values)) <= _BOOL_TYPES:
        return Column(pa.array(values, type=pa.bool_()))
    return _coerce_each(values, _as_bool, pa.bool_(), ready=_BOOL_TYPES)


def timestamp_column(values: Sequence[object]) -> Column:
    parsed = parse_timestamps_with_errors(values)
    return Column(
        parsed.values, {position: values[position] for position in parsed.unparseable_positions()}
    )


def _parsed_text(strings: pa.Array) -> Column:
    parsed = parse_timestamp_strings(strings)
    failed = pc.indices_nonzero(pc.and_(pc.is_valid(strings), pc.is_null(parsed)))
    return Column(parsed, {position: strings[position].as_py() for position in failed.to_pylist()})


def _coerce_each(
    values: Sequence[object],
    coerce: Callable[[object], object],
    arrow_type: pa.DataType,
    *,
    ready: frozenset[type] = frozenset({_NONE_TYPE}),
    original: dict[int, object] | None = None,
) -> Column:
    """Coerce the values whose type is not ``ready`` for ``arrow_type`` one by one.

    ``original`` maps positions to the values to report as uncoerced when those differ from
    ``values`` (because ``values`` were coerced once already).
    """
    converted = [value if type(value) in ready else coerce(value) for value in values]
    failed = _failures(converted)
    uncoerced = dict(original or {})
    for position in failed:
        converted[position] = None
        uncoerced.setdefault(position, values[position])
    return Column(pa.array(converted, type=arrow_type), uncoerced)


def _failures(converted: list[object]) -> list[int]:
    if _FAIL not in converted:
        return []
    return [position for position, value in enumerate(converted) if value is _FAIL]


def _as_strict_text(value: object) -> object:
    return clean_text(value) if isinstance(value, str) else _FAIL


def _as_text(value: object) -> object:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _FAIL


def _as_bool(value: object) -> object:
    return value if isinstance(value, bool) else _FAIL


def _as_int32(value: object) -> object:
    candidate: int
    if isinstance(value, bool):
        return _FAIL
    if isinstance(value, int):
        candidate = value
    elif isinstance(value, float):
        if not value.is_integer():
            return _FAIL
        candidate = int(value)
    elif isinstance(value, str):
        number = _number_from_text(value)
        if number is None or (isinstance(number, float) and not number.is_integer()):
            return _FAIL
        candidate = int(number)
    else:
        return _FAIL
    return candidate if _INT32_MIN <= candidate <= _INT32_MAX else _FAIL


def _as_float(value: object) -> object:
    if isinstance(value, bool):
        return _FAIL
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return _FAIL
    if isinstance(value, str):
        number = _number_from_text(value)
        return _FAIL if number is None else float(number)
    return _FAIL


def _number_from_text(value: str) -> float | int | None:
    """A finite number written as plain ASCII decimal text, else None."""
    text = value.strip()
    if len(text) > _MAX_NUMBER_TEXT:
        return None
    if _INTEGER_TEXT.fullmatch(text):
        return int(text)
    if _DECIMAL_TEXT.fullmatch(text):
        number = float(text)
        return number if math.isfinite(number) else None
    return None
