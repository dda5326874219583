"""`calllogs sql` as people run it: a real process on a real DuckDB file, piped and at a tty."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import pty
import select
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.warehouse import Warehouse
from tests.e2e.test_cli import CALLLOGS, run
from tests.warehouse_fixtures import ASSISTANT_A, DAY_1, DAY_2, random_load

ROWS = 600  # more than a table shows by default: csv and json must still write every one
ENDLESS = "SELECT count(*) FROM range(100000000000) t(n) WHERE n % 7 = 3;"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("sql") / "data"
    warehouse = Warehouse(data / "warehouse.duckdb", lock_timeout_s=5.0)
    warehouse.load_partitions(
        [
            random_load(1, DAY_1, ASSISTANT_A, count=ROWS // 2),
            random_load(2, DAY_2, ASSISTANT_A, count=ROWS // 2),
        ]
    )
    return data


def sql_env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALL_LOGS_", "DAGSTER_"))}
    env["CALL_LOGS_DATA_DIR"] = str(data)
    return env


def test_csv_and_json_write_every_row(data_dir: Path) -> None:
    query = "SELECT room_name, started_at FROM call_logs ORDER BY room_name"
    as_csv = run(["sql", "--format", "csv", query], sql_env(data_dir))
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == ROWS and all(row["started_at"].endswith("Z") for row in rows)
    as_json = run(["sql", "--format", "json", query], sql_env(data_dir))
    assert as_json.returncode == 0, as_json.stderr
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [record["room_name"] for record in records] == [row["room_name"] for row in rows]
    table = run(["sql", query], sql_env(data_dir))
    assert f"({ROWS} rows, first 200 shown;" in table.stdout
    everything = run(["sql", "--max-rows", "0", query], sql_env(data_dir))
    assert everything.stdout.rstrip().endswith(f"({ROWS} rows)")


def test_piped_sql_runs_every_statement(data_dir: Path) -> None:
    script = "SELECT 1 AS first_one;\nSELECT count(*) AS calls FROM call_logs;\n"
    result = subprocess.run(
        [CALLLOGS, "sql"],
        input=script,
        env=sql_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=data_dir.parent,
    )
    assert result.returncode == 0, result.stderr
    assert "first_one" in result.stdout and f" {ROWS} |" in result.stdout
    assert "calllogs>" not in result.stdout  # a script, not a prompt


def test_a_failing_query_is_one_line_on_stderr(data_dir: Path) -> None:
    result = run(["sql", "SELECT * FROM no_such_table"], sql_env(data_dir))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "no_such_table" in lines[0] and lines[0].startswith("calllogs: ")
    assert "Traceback" not in result.stderr + result.stdout


def wait_until_querying(process: subprocess.Popen[Any], data: Path) -> None:
    """Until the process holds the warehouse open: a statement runs only while it does."""
    target = str((data / "warehouse.duckdb").resolve())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "calllogs sql ended before its query ran"
        fds = Path(f"/proc/{process.pid}/fd")
        with contextlib.suppress(OSError):
            if any(os.path.realpath(fd) == target for fd in fds.iterdir()):
                return
        time.sleep(0.05)
    raise AssertionError("the query never started")


def press_ctrl_c_until(process: subprocess.Popen[Any], done: Callable[[], bool]) -> None:
    """SIGINT (what Ctrl-C sends) once a second until ``done``, as a person presses it again when
    the first press lands between two statements of the connection's setup."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        process.send_signal(signal.SIGINT)
        pressed = time.monotonic()
        while time.monotonic() - pressed < 1.0:
            if done():
                return
            time.sleep(0.05)
    status = Path(f"/proc/{process.pid}/status").read_text(errors="replace").splitlines()
    masks = [line for line in status if line.startswith(("SigBlk", "SigIgn", "SigCgt"))]
    raise AssertionError(f"Ctrl-C did not cancel the query within 20 s; signals: {masks}")


def ctrl_c_reaches_it() -> None:
    """In the child before exec: SIGINT as a terminal's foreground job has it. A suite started in
    the background (``cmd &`` in a script) passes SIGINT on ignored, and Python then never turns
    it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Terminal:
    """``calllogs sql`` at a pseudo-terminal, as a person types at it."""

    def __init__(self, data: Path) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [CALLLOGS, "sql"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=sql_env(data),
            cwd=data.parent,
            preexec_fn=ctrl_c_reaches_it,  # noqa: PLW1509 - one signal call, no lock taken
        )
        os.close(slave)
        self.seen = ""

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def read(self, timeout: float) -> str:
        """Everything shown so far, after waiting up to ``timeout`` for more."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            with contextlib.suppress(OSError):
                self.seen += os.read(self.master, 65536).decode(errors="replace")
        return self.seen

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} within {timeout}s; saw {self.seen[-500:]!r}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the process ended and closed the terminal
                    break
        return self.seen

    def close(self) -> int:
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            os.close(self.master)


def test_ctrl_c_cancels_the_running_statement_and_keeps_the_prompt(data_dir: Path) -> None:
    terminal = Terminal(data_dir)
    try:
        terminal.wait_for("calllogs> ")
        terminal.type(ENDLESS + "\n")
        wait_until_querying(terminal.process, data_dir)
        started = time.monotonic()
        press_ctrl_c_until(terminal.process, lambda: "Cancelled." in terminal.read(0.2))
        cancelled_in = time.monotonic() - started
        terminal.type("SELECT 40 + 2 AS answer;\n")
        seen = terminal.wait_for("(1 row)")
        terminal.type(".quit\n")
    finally:
        status = terminal.close()
    assert status == 0
    assert cancelled_in < 10
    assert "42" in seen.split("Cancelled.")[1]
    assert "Traceback" not in seen and "syncs are idempotent" not in seen


def test_ctrl_c_on_a_one_shot_query_is_one_line_and_exit_130(data_dir: Path) -> None:
    process = subprocess.Popen(
        [CALLLOGS, "sql", ENDLESS],
        env=sql_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=data_dir.parent,
        preexec_fn=ctrl_c_reaches_it,  # noqa: PLW1509 - one signal call, no lock taken
    )
    try:
        wait_until_querying(process, data_dir)
        press_ctrl_c_until(process, lambda: process.poll() is not None)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert err.splitlines() == ["calllogs: error: query cancelled; nothing was changed"]
    assert out == ""
