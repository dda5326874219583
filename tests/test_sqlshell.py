"""The SQL shell: readable tables, a forgiving prompt, and never a write or a long-held lock."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipeline.errors import WarehouseError
from pipeline.sqlshell import PROMPT, interactive, run_script, run_sql
from pipeline.warehouse import Warehouse
from tests.warehouse_fixtures import ASSISTANT_A, DAY_1, DAY_2, random_load


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb", lock_timeout_s=5.0)
    warehouse.load_partitions([random_load(4, DAY_1, ASSISTANT_A, count=12)])
    return warehouse


def run_script_at_prompt(warehouse: Warehouse, script: str) -> tuple[int, str]:
    out = io.StringIO()
    status = interactive(warehouse, stdin=io.StringIO(script), stdout=out)
    return status, out.getvalue()


def test_run_sql_formats_a_query_result(warehouse: Warehouse) -> None:
    text = run_sql(warehouse, "SELECT calls, call_date FROM daily_assistant_metrics")
    assert "2025-03-01" in text and "12" in text
    assert text.endswith("(1 row)")


def test_prompt_runs_statements_ended_by_semicolon_or_blank_line(warehouse: Warehouse) -> None:
    status, out = run_script_at_prompt(
        warehouse,
        "SELECT 1 AS first_answer,\n  2 AS second;\nSELECT 42 AS blank_ended\n\n.quit\n",
    )
    assert status == 0
    assert "first_answer" in out and "second" in out and "blank_ended" in out
    assert out.count("(1 row)") == 2
    assert out.count(PROMPT) == 3
    assert "...> " in out  # the continuation prompt of the two-line statement


def test_prompt_lists_tables_and_reports_errors_on_one_line(warehouse: Warehouse) -> None:
    status, out = run_script_at_prompt(
        warehouse, ".tables\nSELECT * FROM missing_table;\n.nope\nSELECT 'still here' AS s;\n"
    )
    assert status == 0
    assert "call_logs" in out and "daily_assistant_metrics" in out and "hourly_answer_rate" in out
    errors = [line for line in out.splitlines() if "Error:" in line]
    assert len(errors) == 2
    assert "missing_table" in errors[0] and ".nope" in errors[1]
    assert "still here" in out


def test_prompt_refuses_writes_clearly(warehouse: Warehouse) -> None:
    _, out = run_script_at_prompt(warehouse, "DELETE FROM call_logs;\nDROP TABLE call_logs;\n")
    assert out.count("read-only") >= 2
    assert warehouse.table_counts()["call_logs"] == 12


def test_end_of_input_runs_the_pending_statement_and_exits(warehouse: Warehouse) -> None:
    status, out = run_script_at_prompt(warehouse, "SELECT count(*) AS n FROM call_logs")
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


def test_every_statement_shows_its_result_in_order(warehouse: Warehouse) -> None:
    text = run_sql(
        warehouse, "SELECT 1 AS first_one; SET threads = 1; SELECT count(*) AS n FROM call_logs;"
    )
    first, ok, last = text.split("\n\n")
    assert "first_one" in first and first.endswith("(1 row)")
    assert ok == "OK"
    assert "| n |" in last.replace("  ", "") and " 12 |" in last
    assert text.index("first_one") < text.index("OK") < text.index("(1 row)", len(first))


def test_a_script_stops_at_the_first_failing_statement(warehouse: Warehouse) -> None:
    out = io.StringIO()
    with pytest.raises(WarehouseError, match="missing_table"):
        run_script(warehouse, "SELECT 1 AS shown; SELECT * FROM missing_table; SELECT 2 AS x;", out)
    assert "shown" in out.getvalue() and "| x" not in out.getvalue()


def test_prompt_switches_format_and_row_cap(warehouse: Warehouse) -> None:
    status, out = run_script_at_prompt(
        warehouse,
        ".format csv\nSELECT room_name FROM call_logs ORDER BY room_name;\n"
        ".format table\n.maxrows 2\nSELECT room_name FROM call_logs;\n"
        ".format xml\n.maxrows lots\n",
    )
    assert status == 0
    lines = out.splitlines()
    header = next(index for index, line in enumerate(lines) if line.endswith("room_name"))
    assert len([line for line in lines[header + 1 : header + 13] if "," not in line]) == 12
    assert "(12 rows, first 2 shown;" in out
    assert "Error: .format takes one of table, csv, json" in out
    assert "Error: .maxrows takes a number" in out


class _InterruptedWhileTyping:
    """Input where the user presses Ctrl-C in the middle of typing a statement."""

    def __init__(self, lines: list[str | None]) -> None:
        self.lines = lines

    def readline(self) -> str:
        line = self.lines.pop(0)
        if line is None:
            raise KeyboardInterrupt
        return line


def test_ctrl_c_while_typing_clears_the_statement_and_keeps_the_prompt(
    warehouse: Warehouse,
) -> None:
    source = _InterruptedWhileTyping(
        ["SELECT 'dropped' AS never\n", None, "SELECT 'kept' AS after;\n", ""]
    )
    out = io.StringIO()
    assert interactive(warehouse, stdin=source, stdout=out) == 0
    assert "dropped" not in out.getvalue() and "kept" in out.getvalue()
