"""The ``calllogs`` command line: its commands and options (argparse, one-line usage errors)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import NoReturn

from dagster_project.cli.output import EXIT_USAGE, error
from pipeline.sqloptions import DEFAULT_MAX_ROWS, FORMATS
from simulator.cli import add_arguments as add_simulator_arguments

DEFAULT_REPORT_DAYS, MAX_REPORT_DAYS = 30, 3660


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _positive_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_REPORT_DAYS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of days from 1 to {MAX_REPORT_DAYS}"
        )
    return days


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the command's --help, not the usage."""

    def error(self, message: str) -> NoReturn:
        error(f"{message} (see `{self.prog} --help`)")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="calllogs",
        description="Sync call logs into a Parquet lake and a DuckDB warehouse.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sync = sub.add_parser(
        "sync",
        help="sync days [start, end) — or, without dates, the incremental window — as Dagster runs",
    )
    sync.add_argument("--start", type=_day, help="first day (YYYY-MM-DD, UTC)")
    sync.add_argument("--end", type=_day, help="day after the last (YYYY-MM-DD, exclusive)")
    sync.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan: runs, and each assistant's days (contacts the API only to list "
        "assistants when CALL_LOGS_ASSISTANT_IDS is unset)",
    )
    sync.add_argument(
        "--assistant",
        action="append",
        metavar="ID",
        help="sync only this assistant (repeatable); others are left as they are",
    )
    sync.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also log retries, re-read windows and warehouse lock waits to stderr",
    )

    audit = sub.add_parser(
        "audit",
        help="compare the API's totals with the warehouse over wide windows, narrow the "
        "differences to days, and re-sync those days as Dagster runs",
    )
    audit.add_argument(
        "--since",
        type=_day,
        help="first day to compare (YYYY-MM-DD, UTC; default CALL_LOGS_START_DATE); the audit "
        "runs up to the start of today",
    )
    audit.add_argument(
        "--dry-run", action="store_true", help="only compare and report; re-sync nothing"
    )

    sub.add_parser(
        "doctor",
        help="check the configuration, API, key, assistants, data dir, warehouse and Dagster "
        "instance; print what the next sync will do",
    )

    sub.add_parser(
        "settings",
        help="print the settings every command would use (CALL_LOGS_* after .env; secrets "
        "only as set or not set); a bad value is one line naming the variable",
    )

    sim = sub.add_parser("simulate", help="serve the bundled call-logs API simulator on loopback")
    add_simulator_arguments(sim)

    sql = sub.add_parser(
        "sql",
        help="run SQL on the warehouse, read-only (no query: SQL from piped input, or a prompt)",
    )
    sql.add_argument("query", nargs="?", help="SQL to run; every statement's result is shown")
    sql.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (rounded for reading), or csv / json (JSON Lines): every row, exact",
    )
    sql.add_argument(
        "--max-rows",
        type=int,
        default=DEFAULT_MAX_ROWS,
        help=f"rows a table shows (default {DEFAULT_MAX_ROWS}; 0 shows all)",
    )

    report = sub.add_parser(
        "report",
        help="write one self-contained HTML page of charts per assistant (opens offline)",
    )
    report.add_argument(
        "--days",
        type=_positive_days,
        default=DEFAULT_REPORT_DAYS,
        help=f"how many days, ending on the latest day with calls (default {DEFAULT_REPORT_DAYS})",
    )
    report.add_argument(
        "--out",
        type=Path,
        default=Path("report.html"),
        help="the page to write (default ./report.html; replaced whole)",
    )

    demo = sub.add_parser("demo", help="simulator + sync of the last days + metrics, no key needed")
    demo.add_argument("--days", type=int, default=7)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the demo's lake, warehouse and Dagster runs go (default ./demo-data; never "
        "CALL_LOGS_DATA_DIR)",
    )
    return parser
