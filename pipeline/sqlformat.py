"""How ``calllogs sql`` writes a result: an aligned table for people, CSV or JSON Lines for tools.

A result arrives as a stream of Arrow record batches. CSV and JSON write every row as it comes, at
full precision, so a result of any size passes through in bounded memory. The table keeps only the
rows it shows (``max_rows``; 0 shows all), counts the rest, and rounds numbers for display only.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TextIO

import pyarrow as pa
from tabulate import tabulate

from pipeline.sqloptions import DEFAULT_MAX_ROWS, FORMATS

MAX_CELL_CHARS = 60
DISPLAY_DECIMALS = 4
NULL_TEXT = "NULL"

Batches = Iterable[pa.RecordBatch]


def write_result(
    schema: pa.Schema | None,
    batches: Batches,
    sink: TextIO,
    *,
    output: str = "table",
    max_rows: int = DEFAULT_MAX_ROWS,
) -> None:
    """Write one statement's result (``schema`` None: a statement that returns no rows)."""
    if output == "table":
        sink.write(format_batches(schema, batches, max_rows) + "\n")
    elif schema is None:
        return
    elif output == "csv":
        write_csv(schema, batches, sink)
    elif output == "json":
        write_json_lines(schema, batches, sink)
    else:
        raise ValueError(f"unknown output format {output!r}; one of {', '.join(FORMATS)}")


# -- table ---------------------------------------------------------------------------------------


def format_table(table: pa.Table, max_rows: int = DEFAULT_MAX_ROWS) -> str:
    """:func:`format_batches` of a whole table."""
    return format_batches(table.schema, table.to_batches(), max_rows)


def format_batches(
    schema: pa.Schema | None, batches: Batches, max_rows: int = DEFAULT_MAX_ROWS
) -> str:
    """An aligned text table: UTC ISO timestamps, long text cut with …, numbers rounded, a count."""
    if schema is None or len(schema) == 0:
        return "OK"
    limit = max_rows if max_rows > 0 else math.inf
    kept: list[pa.RecordBatch] = []
    shown = total = 0
    for batch in batches:
        total += batch.num_rows
        if shown < limit:
            piece = batch if shown + batch.num_rows <= limit else batch.slice(0, int(limit - shown))
            kept.append(piece)
            shown += piece.num_rows
    table = pa.Table.from_batches(kept, schema=schema)
    columns = [
        [display_value(value) for value in table.column(index).to_pylist()]
        for index in range(table.num_columns)
    ]
    rows = list(zip(*columns, strict=True))
    align = ["right" if _is_numeric(field.type) else "left" for field in schema]
    body = tabulate(
        rows, headers=schema.names, tablefmt="psql", disable_numparse=True, colalign=align
    )
    noun = "row" if total == 1 else "rows"
    if shown == total:
        return f"{body}\n({total} {noun})"
    return (
        f"{body}\n({total:,} {noun}, first {shown:,} shown; all: --max-rows 0 or .maxrows 0; "
        "every row as data: --format csv|json)"
    )


def display_value(value: object) -> str:
    """One cell for the table: on one line, at most MAX_CELL_CHARS, numbers rounded for reading."""
    text = _display_number(value) if isinstance(value, float) else render_value(value)
    text = text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎").replace("\t", " ")
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


def _display_number(value: float) -> str:
    """At most DISPLAY_DECIMALS decimals; tiny values keep three significant digits."""
    if not math.isfinite(value):
        return render_value(value)
    if value != 0 and abs(value) < 10**-DISPLAY_DECIMALS:
        return format(value, ".3g")
    text = f"{value:.{DISPLAY_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _is_numeric(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    )


# -- exact text of one value (CSV cells, the table before rounding) -------------------------------


def render_value(value: object) -> str:
    """A value as exact text: timestamps in UTC ISO form with Z, JSON for nested values."""
    if value is None:
        return NULL_TEXT
    for kinds, render in _RENDERERS:
        if isinstance(value, kinds):
            return render(value)
    return str(value)


def _render_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        return value.isoformat()
    return value.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


def _render_interval(value: pa.MonthDayNano) -> str:
    months, days, nanoseconds = value
    parts = [f"{months} months"] if months else []
    parts += [f"{days} days"] if days else []
    if nanoseconds or not parts:
        parts.append(str(timedelta(microseconds=nanoseconds // 1000)))
    return " ".join(parts)


def _render_float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


# Checked in order: datetime before date (a datetime is a date), bool before everything numeric,
# an interval (a named tuple) before tuples.
_RENDERERS: tuple[tuple[type | tuple[type, ...], Callable[[Any], str]], ...] = (
    (datetime, _render_datetime),
    (pa.MonthDayNano, _render_interval),
    ((date, time), lambda value: value.isoformat()),
    (bool, lambda value: "true" if value else "false"),
    (float, _render_float),
    (bytes, lambda value: value.hex()),
    ((dict, list, tuple), lambda value: _json_text(value)),  # noqa: PLW0108 - defined below
)


# -- CSV and JSON Lines --------------------------------------------------------------------------


def write_csv(schema: pa.Schema, batches: Batches, sink: TextIO) -> None:
    """RFC 4180 CSV with a header; NULL is an empty field, every row written as it arrives."""
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(schema.names)
    for batch in batches:
        for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
            writer.writerow("" if value is None else render_value(value) for value in row)
        sink.flush()


def write_json_lines(schema: pa.Schema, batches: Batches, sink: TextIO) -> None:
    """One JSON object per row (JSON Lines); numbers exact, timestamps as UTC ISO strings."""
    names = [json.dumps(name) for name in schema.names]
    for batch in batches:
        for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
            fields = ", ".join(
                f"{name}: {_json_value(value)}" for name, value in zip(names, row, strict=True)
            )
            sink.write("{" + fields + "}\n")
        sink.flush()


def _json_value(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else "null"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "null"
    if isinstance(value, int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict | list | tuple):
        return _json_text(value)
    return json.dumps(render_value(value), ensure_ascii=False)


def _json_text(value: object) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return render_value(value)
