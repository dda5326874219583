"""Result output: tables people read (rounded, capped, counted), CSV and JSON tools read (exact)."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pytest

from pipeline.sqlformat import (
    display_value,
    format_batches,
    format_table,
    write_csv,
    write_json_lines,
    write_result,
)

MIXED = pa.table(
    {
        "room_name": ["room-1", 'a "quoted", comma', None],
        "answer_rate": [0.8333333333333334, 1.0, None],
        "calls": pa.array([12, 0, None], pa.int64()),
        "total": pa.array(
            [Decimal("12345678901234567890"), Decimal("0"), None], pa.decimal128(38, 0)
        ),
        "started_at": pa.array(
            [datetime(2026, 3, 1, 10, 30, 0, 123456, tzinfo=UTC), None, None],
            pa.timestamp("us", tz="UTC"),
        ),
        "call_date": [date(2026, 3, 1), None, None],
        "tags": [["a", "ü"], [], None],
    }
)


def test_format_table_aligns_columns_and_counts_rows() -> None:
    table = pa.table({"name": ["a", "bbbbbb"], "calls": pa.array([7, 1234], pa.int64())})
    lines = format_table(table).splitlines()
    assert lines[-1] == "(2 rows)"
    body = [line for line in lines if line.startswith("| ")]
    assert len({len(line) for line in lines[:-1]}) == 1  # every table line is equally wide
    assert "name" in body[0] and "calls" in body[0]
    assert body[1].endswith("    7 |") and body[2].endswith(" 1234 |")  # numbers right-aligned


def test_format_table_shows_timestamps_in_utc_iso_form() -> None:
    berlin = timezone(timedelta(hours=1))
    moments = pa.array(
        [datetime(2025, 3, 1, 10, 30, tzinfo=berlin), datetime(2025, 3, 1, 0, 0, 0, 5, tzinfo=UTC)],
        pa.timestamp("us", tz="Europe/Berlin"),
    )
    text = format_table(pa.table({"at": moments, "day": [date(2025, 3, 1), None]}))
    assert "2025-03-01T09:30:00Z" in text
    assert "2025-03-01T00:00:00.000005Z" in text
    assert "2025-03-01 " in text and "NULL" in text
    assert text.endswith("(2 rows)")


def test_format_table_shows_intervals_as_durations() -> None:
    table = pa.table(
        {
            "age": pa.array(
                [pa.MonthDayNano([0, 2, 5_400_000_000_000]), pa.MonthDayNano([3, 0, 0])],
                pa.month_day_nano_interval(),
            )
        }
    )
    text = format_table(table)
    assert "2 days 1:30:00" in text and "3 months" in text


def test_format_table_truncates_long_text_and_keeps_one_line_per_row() -> None:
    table = pa.table({"text": ["x" * 500, "two\nlines"]})
    text = format_table(table)
    assert "x" * 59 + "…" in text and "x" * 61 not in text
    assert "two⏎lines" in text
    assert len(text.splitlines()) == 7  # top, header, rule, 2 rows, bottom, footer


def test_format_table_shows_at_most_max_rows_and_says_so() -> None:
    text = format_table(pa.table({"n": list(range(10))}), max_rows=3)
    assert text.splitlines()[-1].startswith("(10 rows, first 3 shown; all: --max-rows 0")
    assert "|   2 |" in text and "|   3 |" not in text
    assert format_table(pa.table({"n": [1]})).endswith("(1 row)")
    assert format_table(pa.table({"n": pa.array([], pa.int64())})).endswith("(0 rows)")


def test_display_rounds_numbers_for_reading_only() -> None:
    assert display_value(0.8333333333333334) == "0.8333"
    assert display_value(2.0) == "2"
    assert display_value(1234567.891234) == "1234567.8912"
    assert display_value(-0.00001) == "-1e-05"
    assert display_value(-0.00004) == "-4e-05"
    assert display_value(0.0) == "0" and display_value(-0.0) == "0"
    assert display_value(float("nan")) == "NaN"
    assert display_value(12) == "12"
    text = format_table(MIXED)
    assert "0.8333 |" in text and "0.8333333" not in text
    assert "12345678901234567890" in text  # a decimal is exact, never rounded


def _batches(rows: int, size: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, rows, size):
        yield pa.record_batch({"n": pa.array(range(start, min(start + size, rows)), pa.int64())})


def test_a_table_keeps_only_the_rows_it_shows_and_counts_the_rest() -> None:
    schema = pa.schema({"n": pa.int64()})
    text = format_batches(schema, _batches(1_000_000, 65_536), max_rows=5)
    assert text.splitlines()[-1].startswith("(1,000,000 rows, first 5 shown;")
    assert "|   4 |" in text and "|   5 |" not in text
    everything = format_batches(schema, _batches(300, 7), max_rows=0)
    assert everything.endswith("(300 rows)") and "| 299 |" in everything


def test_csv_writes_every_row_exactly_and_reads_back() -> None:
    out = io.StringIO()
    write_csv(MIXED.schema, MIXED.to_batches(), out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == MIXED.column_names
    assert rows[1] == [
        "room-1",
        "0.8333333333333334",
        "12",
        "12345678901234567890",
        "2026-03-01T10:30:00.123456Z",
        "2026-03-01",
        '["a", "ü"]',
    ]
    assert rows[2][0] == 'a "quoted", comma' and rows[2][1] == "1.0" and rows[2][6] == "[]"
    assert rows[3] == ["", "", "", "", "", "", ""]  # NULL is an empty field
    assert len(rows) == 4


def test_json_lines_are_exact_numbers_iso_timestamps_and_nulls() -> None:
    out = io.StringIO()
    write_json_lines(MIXED.schema, MIXED.to_batches(), out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0], parse_float=Decimal)
    assert first == {
        "room_name": "room-1",
        "answer_rate": Decimal("0.8333333333333334"),
        "calls": 12,
        "total": 12345678901234567890,
        "started_at": "2026-03-01T10:30:00.123456Z",
        "call_date": "2026-03-01",
        "tags": ["a", "ü"],
    }
    assert json.loads(lines[2]) == dict.fromkeys(MIXED.column_names)


def test_non_finite_floats_are_null_in_json() -> None:
    out = io.StringIO()
    table = pa.table({"x": [float("nan"), float("inf")]})
    write_json_lines(table.schema, table.to_batches(), out)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [{"x": None}, {"x": None}]


class _WatchedBatches:
    """Batches that record how much the sink held when each was pulled (proves streaming)."""

    def __init__(self, sink: io.StringIO, count: int) -> None:
        self.sink, self.count = sink, count
        self.sink_sizes: list[int] = []

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for index in range(self.count):
            self.sink_sizes.append(len(self.sink.getvalue()))
            yield pa.record_batch({"n": pa.array([index] * 1000, pa.int64())})


@pytest.mark.parametrize("output", ["csv", "json"])
def test_csv_and_json_write_each_batch_before_reading_the_next(output: str) -> None:
    sink = io.StringIO()
    batches = _WatchedBatches(sink, 4)
    write_result(pa.schema({"n": pa.int64()}), batches, sink, output=output)
    sizes = batches.sink_sizes
    assert all(later > earlier for earlier, later in itertools.pairwise(sizes))
    assert len(sink.getvalue().splitlines()) == 4000 + (output == "csv")


def test_a_statement_without_rows_is_ok_in_a_table_and_nothing_in_data_formats() -> None:
    for output, expected in (("table", "OK\n"), ("csv", ""), ("json", "")):
        sink = io.StringIO()
        write_result(None, iter(()), sink, output=output)
        assert sink.getvalue() == expected
