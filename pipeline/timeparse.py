"""ISO 8601 text -> aware UTC timestamps at microsecond precision, one value or a whole column.

Accepted grammar (anything else is unparseable, never an error):

- date ``YYYY-MM-DD`` or ``YYYYMMDD``; a date alone means midnight UTC;
- optionally a separator ``T``, ``t`` or a space, then ``HH``, ``HH:MM``, ``HH:MM:SS`` (or the basic
  forms ``HHMM``, ``HHMMSS``), then optionally a fraction of a second after ``.`` or ``,``;
- optionally an offset ``Z``/``z``, ``±HH``, ``±HHMM`` or ``±HH:MM`` (a value without one is UTC,
  which is how the platform's older rows are meant); offsets must be below 24 hours;
- surrounding whitespace is ignored.

Fractions longer than six digits are **truncated** to microseconds (never rounded, so a value never
moves into the next second, minute or day). Calendar-invalid values (February 30, hour 24, leap
second 60) and values whose UTC instant falls outside years 1-9999 are unparseable.

``parse_timestamps`` gives the same answer as ``parse_timestamp`` applied to every value, but lets
Arrow's C++ ISO 8601 parser take every value it can and falls back to Python only for the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.schemas import UTC_TS

_MAX_TEXT_LENGTH = 64  # the longest legal shape is ~40 characters; longer text is not a timestamp

_ISO_8601 = re.compile(
    r"""
    (?P<year>\d{4})-?(?P<month>\d{2})-?(?P<day>\d{2})
    (?:
        [Tt\ ]
        (?P<hour>\d{2})
        (?: :?(?P<minute>\d{2}) (?: :?(?P<second>\d{2}) (?:[.,](?P<fraction>\d+))? )? )?
        (?P<offset>[Zz] | (?P<sign>[+-])(?P<offset_hour>\d{2})(?::?(?P<offset_minute>\d{2}))?)?
    )?
    """,
    re.VERBOSE | re.ASCII,
)

# Shapes Arrow's ``cast(string -> timestamp)`` parses exactly as ``parse_timestamp`` does. Values of
# these shapes that are calendar-invalid make the cast fail; those batches go to the fallback.
_ARROW_ZONED_SHAPE = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$"
)
_ARROW_NAIVE_SHAPE = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?)?$"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_US = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MAX_US = (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - _EPOCH) // timedelta(
    microseconds=1
)
_NAIVE_TS = pa.timestamp("us")
_TEXT_OR_NONE = frozenset({str, type(None)})


def parse_timestamp(value: object) -> datetime | None:
    """Return ``value`` as an aware UTC datetime, or None when it is not an ISO 8601 timestamp."""
    if not isinstance(value, str) or len(value) > _MAX_TEXT_LENGTH:
        return None
    match = _ISO_8601.fullmatch(value.strip())
    if match is None:
        return None
    parts = match.groupdict()
    fraction = (parts["fraction"] or "")[:6].ljust(6, "0")
    offset = timedelta(0)
    if parts["sign"] is not None:
        offset = timedelta(
            hours=int(parts["offset_hour"]), minutes=int(parts["offset_minute"] or 0)
        )
        if offset >= timedelta(hours=24) or int(parts["offset_minute"] or 0) > 59:
            return None
        if parts["sign"] == "-":
            offset = -offset
    try:
        local = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int(fraction),
        )
        return (local - offset).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


@dataclass(frozen=True)
class ParsedTimestamps:
    """A parsed column and which inputs were present (not None) but could not be parsed."""

    values: pa.TimestampArray  # timestamp[us, UTC]; null where absent or unparseable
    unparseable: pa.BooleanArray  # True where the input was not None and parsing failed

    def unparseable_positions(self) -> list[int]:
        return pc.indices_nonzero(self.unparseable).to_pylist()  # type: ignore[no-any-return]


def parse_timestamps(values: Sequence[object]) -> pa.TimestampArray:
    """Vectorised ``parse_timestamp``: timestamp[us, UTC], null for absent or unparseable values."""
    return parse_timestamps_with_errors(values).values


def parse_timestamps_with_errors(values: Sequence[object]) -> ParsedTimestamps:
    """Parse a column, telling absent values (None) apart from present-but-unparseable ones."""
    strings, present = _to_string_array(values)
    parsed = parse_timestamp_strings(strings)
    return ParsedTimestamps(values=parsed, unparseable=pc.and_(present, pc.is_null(parsed)))


def parse_timestamp_strings(strings: pa.Array) -> pa.TimestampArray:
    """Parse an Arrow string array; nulls stay null, unparseable text becomes null."""
    if strings.null_count == len(strings):
        return pa.nulls(len(strings), type=UTC_TS)
    try:  # a window's timestamps nearly always share one zoned shape: one cast takes them all
        return _within_python_range(pc.cast(strings, UTC_TS))
    except pa.ArrowInvalid:
        pass  # a naive, odd or invalid value among them (the cast stops at the first)
    # The platform's usual shapes end in "Z" or "+00:00" and take one cast. A failing cast costs
    # about a microsecond per failing value, so other shapes are sorted out by pattern instead.
    usual = pc.fill_null(pc.or_(pc.ends_with(strings, "Z"), pc.ends_with(strings, "+00:00")), False)
    usual_count = pc.sum(usual).as_py() or 0
    if usual_count == 0:
        return _parse_by_shape(strings)
    try:
        parsed_usual = _within_python_range(pc.cast(strings.filter(usual), UTC_TS))
    except pa.ArrowInvalid:  # text shaped like a timestamp that is not one (say, February 30)
        return _parse_by_shape(strings)
    unusual = pc.and_(pc.is_valid(strings), pc.invert(usual))
    result = pc.replace_with_mask(pa.nulls(len(strings), type=UTC_TS), usual, parsed_usual)
    return pc.replace_with_mask(result, unusual, _parse_by_shape(strings.filter(unusual)))


def _parse_by_shape(strings: pa.Array) -> pa.TimestampArray:
    result: pa.Array = pa.nulls(len(strings), type=UTC_TS)
    left = pc.is_valid(strings)
    for shape, target in ((_ARROW_ZONED_SHAPE, UTC_TS), (_ARROW_NAIVE_SHAPE, _NAIVE_TS)):
        mask = pc.fill_null(pc.match_substring_regex(strings, shape), False)
        if pc.any(mask).as_py():
            parsed = _cast_or_parse(strings.filter(mask), target)
            result = pc.replace_with_mask(result, mask, parsed)
            left = pc.and_(left, pc.invert(mask))
    if pc.any(left).as_py():
        result = pc.replace_with_mask(result, left, _parse_in_python(strings.filter(left)))
    return result


def _cast_or_parse(strings: pa.Array, target: pa.DataType) -> pa.Array:
    try:
        return _within_python_range(pc.cast(strings, target).cast(UTC_TS))
    except pa.ArrowInvalid:  # a calendar-invalid value among them: let Python judge each one
        return _parse_in_python(strings)


def _parse_in_python(strings: pa.Array) -> pa.Array:
    return pa.array([parse_timestamp(text) for text in strings.to_pylist()], type=UTC_TS)


def _within_python_range(parsed: pa.Array) -> pa.Array:
    """Null out instants an offset pushed outside years 1-9999, as ``parse_timestamp`` does."""
    micros = parsed.cast(pa.int64())
    bounds = pc.min_max(micros)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is None or (low >= _MIN_US and high <= _MAX_US):
        return parsed
    inside = pc.and_(pc.greater_equal(micros, _MIN_US), pc.less_equal(micros, _MAX_US))
    return pc.if_else(inside, parsed, pa.scalar(None, type=UTC_TS))


def _to_string_array(values: Sequence[object]) -> tuple[pa.Array, pa.Array]:
    """The text values as an Arrow array (anything else null), and which values were not None."""
    if set(map(type, values)) <= _TEXT_OR_NONE:
        try:
            strings = pa.array(values, type=pa.string())
            return strings, pc.is_valid(strings)
        except UnicodeEncodeError:
            pass
    texts = [value if isinstance(value, str) else None for value in values]
    try:
        strings = pa.array(texts, type=pa.string())
    except UnicodeEncodeError:
        strings = pa.array([_encodable(text) for text in texts], type=pa.string())
    return strings, pa.array([value is not None for value in values], type=pa.bool_())


def _encodable(text: str | None) -> str | None:
    """``text``, or "" (never a timestamp) when a lone surrogate keeps it from being UTF-8."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return ""
    return text
