"""The SQL shell: readable tables, a forgiving prompt, and never a write or a long-held lock."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from pipeline.sqlshell import PROMPT, format_table, interactive, run_sql
from pipeline.warehouse import Warehouse
from tests.warehouse_fixtures import ASSISTANT_A, DAY_1, DAY_2, random_load


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb", lock_timeout_s=5.0)
    warehouse.load_partitions([random_load(4, DAY_1, ASSISTANT_A, count=12)])
    return warehouse


def run_script(warehouse: Warehouse, script: str) -> tuple[int, str]:
    out = io.StringIO()
    status = interactive(warehouse, stdin=io.StringIO(script), stdout=out)
    return status, out.getvalue()


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
    assert text.endswith("(10 rows, first 3 shown)")
    assert "|   2 |" in text and "|   3 |" not in text
    assert format_table(pa.table({"n": [1]})).endswith("(1 row)")
    assert format_table(pa.table({"n": pa.array([], pa.int64())})).endswith("(0 rows)")


def test_run_sql_formats_a_query_result(warehouse: Warehouse) -> None:
    text = run_sql(warehouse, "SELECT calls, call_date FROM daily_assistant_metrics")
    assert "2025-03-01" in text and "12" in text
    assert text.endswith("(1 row)")


def test_prompt_runs_statements_ended_by_semicolon_or_blank_line(warehouse: Warehouse) -> None:
    status, out = run_script(
        warehouse,
        "SELECT 1 AS first_answer,\n  2 AS second;\nSELECT 42 AS blank_ended\n\n.quit\n",
    )
    assert status == 0
    assert "first_answer" in out and "second" in out and "blank_ended" in out
    assert out.count("(1 row)") == 2
    assert out.count(PROMPT) == 3
    assert "...> " in out  # the continuation prompt of the two-line statement


def test_prompt_lists_tables_and_reports_errors_on_one_line(warehouse: Warehouse) -> None:
    status, out = run_script(
        warehouse, ".tables\nSELECT * FROM missing_table;\n.nope\nSELECT 'still here' AS s;\n"
    )
    assert status == 0
    assert "call_logs" in out and "daily_assistant_metrics" in out and "hourly_answer_rate" in out
    errors = [line for line in out.splitlines() if "Error:" in line]
    assert len(errors) == 2
    assert "missing_table" in errors[0] and ".nope" in errors[1]
    assert "still here" in out


def test_prompt_refuses_writes_clearly(warehouse: Warehouse) -> None:
    _, out = run_script(warehouse, "DELETE FROM call_logs;\nDROP TABLE call_logs;\n")
    assert out.count("read-only") >= 2
    assert warehouse.table_counts()["call_logs"] == 12


def test_end_of_input_runs_the_pending_statement_and_exits(warehouse: Warehouse) -> None:
    status, out = run_script(warehouse, "SELECT count(*) AS n FROM call_logs")
    assert status == 0
    assert "12" in out and out.rstrip().endswith("(1 row)")


class _SyncWhileWaiting:
    """Input that, while the prompt waits for the second line, loads a partition (a sync)."""

    def __init__(self, warehouse: Warehouse, script: str) -> None:
        self.lines = io.StringIO(script)
        self.warehouse = warehouse
        self.lines_read = 0

    def readline(self) -> str:
        self.lines_read += 1
        if self.lines_read == 2:
            self.warehouse.load_partitions([random_load(4, DAY_2, ASSISTANT_A, count=5)])
        return self.lines.readline()


def test_the_prompt_holds_no_connection_while_waiting_for_input(warehouse: Warehouse) -> None:
    script = "SELECT count(*) AS before FROM call_logs;\nSELECT count(*) AS after FROM call_logs;\n"
    out = io.StringIO()
    status = interactive(warehouse, stdin=_SyncWhileWaiting(warehouse, script), stdout=out)
    assert status == 0
    assert "12" in out.getvalue() and "17" in out.getvalue()
