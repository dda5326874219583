"""``calllogs sql``: run SQL on the warehouse, as a script or at an interactive prompt, read-only.

Every statement opens its own short read-only connection (:meth:`Warehouse.stream`), so an open
prompt never keeps a sync waiting for longer than one query takes. Every statement's result is
shown, in the order the statements were written. Ctrl-C cancels the running statement (the prompt
stays) or clears the one being typed.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Protocol, TextIO

from pipeline.errors import CallLogsError, QueryCancelled
from pipeline.sqlformat import write_result
from pipeline.sqloptions import FORMATS, Output
from pipeline.warehouse import Warehouse, split_statements

PROMPT = "calllogs> "
CONTINUATION_PROMPT = "     ...> "
CANCELLED_TEXT = "Cancelled."
HELP_TEXT = """\
End a statement with ; or a blank line. The warehouse is read-only here.
.tables              list tables and views
.format table|csv|json  how results are written (now: {output})
.maxrows N           rows a table shows, 0 for all (now: {max_rows})
.help                this text
.quit                leave (so does Ctrl-D)
Ctrl-C cancels the running statement, or clears the one being typed."""
_LIST_TABLES = "SHOW TABLES"  # the shell's own shortcut, exactly what a user would type


class LineSource(Protocol):
    """Where the prompt reads from: anything with ``readline()`` (a file, ``sys.stdin``)."""

    def readline(self) -> str: ...


def run_script(warehouse: Warehouse, sql: str, sink: TextIO, options: Output | None = None) -> None:
    """Run every statement of ``sql`` in order and write each result; stop at the first error."""
    options = options or Output()
    for index, statement in enumerate(split_statements(sql)):
        if index and options.output != "json":
            sink.write("\n")
        with warehouse.stream(statement) as (schema, batches):
            write_result(schema, batches, sink, output=options.output, max_rows=options.max_rows)
        sink.flush()


def run_sql(warehouse: Warehouse, sql: str, options: Output | None = None) -> str:
    """Run SQL read-only and return what :func:`run_script` writes, as text."""
    out = io.StringIO()
    run_script(warehouse, sql, out, options)
    return out.getvalue().rstrip("\n")


def interactive(
    warehouse: Warehouse,
    stdin: LineSource | None = None,
    stdout: TextIO | None = None,
    options: Output | None = None,
) -> int:
    """A prompt that runs statements until ``.quit`` or end of input; returns the exit status."""
    source = stdin if stdin is not None else sys.stdin
    sink = stdout if stdout is not None else sys.stdout
    options = options or Output()
    read_line = _line_reader(source, sink)
    sink.write("calllogs SQL on " + str(warehouse.path) + " (read-only); .help for help\n")
    pending: list[str] = []
    while True:
        try:
            line = read_line(CONTINUATION_PROMPT if pending else PROMPT)
        except KeyboardInterrupt:
            sink.write("\n")
            pending = []
            continue
        if line is None:
            if pending:
                _execute(warehouse, "\n".join(pending), sink, options)
            sink.write("\n")
            return 0
        stripped = line.strip()
        if not pending and stripped.startswith("."):
            if not _dot_command(warehouse, stripped, sink, options):
                return 0
            continue
        if stripped:
            pending.append(line.rstrip("\n"))
        if pending and (not stripped or stripped.endswith(";")):
            _execute(warehouse, "\n".join(pending), sink, options)
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


def _dot_command(warehouse: Warehouse, command: str, sink: TextIO, options: Output) -> bool:
    """Run a dot command; False when the shell should stop."""
    name, _, argument = command.partition(" ")
    name, argument = name.lower(), argument.strip()
    if name in {".quit", ".exit", ".q"}:
        return False
    if name == ".tables":
        _execute(warehouse, _LIST_TABLES, sink, Output("table", 0))
    elif name == ".help":
        sink.write(HELP_TEXT.format(output=options.output, max_rows=options.max_rows) + "\n")
    elif name == ".format" and argument in FORMATS:
        options.output = argument
    elif name == ".format":
        sink.write(f"Error: .format takes one of {', '.join(FORMATS)}\n")
    elif name == ".maxrows" and argument.isdigit():
        options.max_rows = int(argument)
    elif name == ".maxrows":
        sink.write("Error: .maxrows takes a number of rows (0 shows all)\n")
    else:
        sink.write(f"Error: unknown command {name}; .help lists the commands\n")
    return True


def _execute(warehouse: Warehouse, sql: str, sink: TextIO, options: Output) -> None:
    try:
        run_script(warehouse, sql, sink, options)
    except (QueryCancelled, KeyboardInterrupt):
        sink.write("\n" + CANCELLED_TEXT + "\n")
    except CallLogsError as exc:
        sink.write(f"Error: {_first_line(str(exc))}\n")
    sink.flush()


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unknown error"
