"""``calllogs sql``: run SQL on the warehouse, one query or an interactive prompt, read-only.

Every statement opens its own short read-only connection (:meth:`Warehouse.query`), so an open
prompt never keeps a sync waiting for longer than one query takes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, TextIO

import pyarrow as pa
from tabulate import tabulate

from pipeline.errors import CallLogsError
from pipeline.warehouse import Warehouse

PROMPT = "calllogs> "
CONTINUATION_PROMPT = "     ...> "
MAX_CELL_CHARS = 60
NULL_TEXT = "NULL"
HELP_TEXT = """\
End a statement with ; or a blank line. The warehouse is read-only here.
.tables   list tables and views
.help     this text
.quit     leave (so does end of input)"""
_LIST_TABLES = "SHOW TABLES"  # the shell's own shortcut, exactly what a user would type


class LineSource(Protocol):
    """Where the prompt reads from: anything with ``readline()`` (a file, ``sys.stdin``)."""

    def readline(self) -> str: ...


def format_table(table: pa.Table, max_rows: int = 200) -> str:
    """An aligned text table: timestamps in UTC ISO form, long text cut with …, a row count."""
    total = table.num_rows
    if table.num_columns == 0:
        return "OK"
    shown = table.slice(0, max(max_rows, 0))
    columns = [
        [format_value(value) for value in shown.column(index).to_pylist()]
        for index in range(table.num_columns)
    ]
    rows = list(zip(*columns, strict=True))
    align = ["right" if _is_numeric(field.type) else "left" for field in table.schema]
    body = tabulate(
        rows,
        headers=table.column_names,
        tablefmt="psql",
        disable_numparse=True,
        colalign=align,
    )
    noun = "row" if total == 1 else "rows"
    footer = (
        f"({total} {noun})"
        if shown.num_rows == total
        else (f"({total} {noun}, first {shown.num_rows} shown)")
    )
    return f"{body}\n{footer}"


def format_value(value: object) -> str:
    """One cell as text, on one line and at most MAX_CELL_CHARS long."""
    text = _render(value)
    text = text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎").replace("\t", " ")
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


def _render(value: object) -> str:
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


# Checked in order: datetime before date (a datetime is a date), bool before everything numeric,
# an interval (a named tuple) before tuples.
_RENDERERS: tuple[tuple[type | tuple[type, ...], Callable[[Any], str]], ...] = (
    (datetime, _render_datetime),
    (pa.MonthDayNano, _render_interval),
    ((date, time), lambda value: value.isoformat()),
    (bool, lambda value: "true" if value else "false"),
    (float, lambda value: format(value, ".10g")),
    (bytes, lambda value: value.hex()),
    ((dict, list, tuple), lambda value: json.dumps(value, default=str, ensure_ascii=False)),
)


def _is_numeric(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    )


def run_sql(warehouse: Warehouse, sql: str) -> str:
    """Run one piece of SQL read-only and return its result as a text table."""
    return format_table(warehouse.query(sql))


def interactive(
    warehouse: Warehouse,
    stdin: LineSource | None = None,
    stdout: TextIO | None = None,
) -> int:
    """A prompt that runs statements until ``.quit`` or end of input; returns the exit status."""
    source = stdin if stdin is not None else sys.stdin
    sink = stdout if stdout is not None else sys.stdout
    read_line = _line_reader(source, sink)
    sink.write("calllogs SQL on " + str(warehouse.path) + " (read-only); .help for help\n")
    pending: list[str] = []
    while True:
        line = read_line(CONTINUATION_PROMPT if pending else PROMPT)
        if line is None:
            if pending:
                _execute(warehouse, "\n".join(pending), sink)
            sink.write("\n")
            return 0
        stripped = line.strip()
        if not pending and stripped.startswith("."):
            if not _dot_command(warehouse, stripped, sink):
                return 0
            continue
        if stripped:
            pending.append(line.rstrip("\n"))
        if pending and (not stripped or stripped.endswith(";")):
            _execute(warehouse, "\n".join(pending), sink)
            pending = []


def _line_reader(source: LineSource, sink: TextIO) -> Callable[[str], str | None]:
    """Read one line after showing a prompt; None at end of input. Line editing on a terminal."""
    if sys.stdin.isatty() and source is sys.stdin and sink is sys.stdout:
        import readline  # noqa: F401, PLC0415 - importing it gives input() history and editing

        def read_tty(prompt: str) -> str | None:
            try:
                return input(prompt)
            except EOFError:
                return None

        return read_tty

    def read_stream(prompt: str) -> str | None:
        sink.write(prompt)
        sink.flush()
        line = source.readline()
        return line if line else None

    return read_stream


def _dot_command(warehouse: Warehouse, command: str, sink: TextIO) -> bool:
    """Run a dot command; False when the shell should stop."""
    name = command.split(maxsplit=1)[0].lower()
    if name in {".quit", ".exit", ".q"}:
        return False
    if name == ".tables":
        _execute(warehouse, _LIST_TABLES, sink)
    elif name == ".help":
        sink.write(HELP_TEXT + "\n")
    else:
        sink.write(f"Error: unknown command {name}; .help lists the commands\n")
    return True


def _execute(warehouse: Warehouse, sql: str, sink: TextIO) -> None:
    try:
        sink.write(run_sql(warehouse, sql) + "\n")
    except CallLogsError as exc:
        sink.write(f"Error: {_first_line(str(exc))}\n")
    sink.flush()


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unknown error"
