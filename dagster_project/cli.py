"""``calllogs``: sync (as Dagster runs), simulate, sql, report, demo.

Every failure ends in one line on stderr saying what happened and what to do, and a non-zero exit.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from pipeline.config import Settings
from pipeline.errors import CallLogsError, ConfigError, QueryCancelled
from pipeline.sqloptions import DEFAULT_MAX_ROWS, FORMATS
from pipeline.wording import count
from simulator.cli import add_arguments as add_simulator_arguments

if TYPE_CHECKING:
    from dagster_project.runner import RunOutcome
    from pipeline.incremental import RunPlan, SyncPlan

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_REPORT_DAYS, MAX_REPORT_DAYS = 30, 3660


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _err(message: str) -> None:
    print(f"calllogs: error: {message}", file=sys.stderr, flush=True)


def _warn(message: str) -> None:
    print(f"calllogs: warning: {message}", file=sys.stderr, flush=True)


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
        _err(f"{message} (see `{self.prog} --help`)")
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


def _sync(args: argparse.Namespace) -> int:
    from dagster_project.runner import attach_progress, ensure_dagster_home, run_sync

    settings = Settings.from_env()
    plan = _plan(args, settings)
    if args.dry_run:
        print("\n".join(plan.lines()))
        return EXIT_OK
    settings.require_api()
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logging.getLogger("pipeline").addHandler(handler)
        logging.getLogger("pipeline").setLevel(logging.INFO)
    home = ensure_dagster_home(settings)
    attach_progress(_progress)
    for line in plan.lines():
        _progress(line)
    failed_runs: list[str] = []
    failures = 0
    for run in plan.runs:
        outcome = run_sync(run.start, run.end, plan=run)
        problems = _report(run, outcome)
        failures += problems
        if problems:
            failed_runs.append(outcome.run_id)
    if failures:
        runs = count(len(failed_runs), "Dagster run")
        print(
            f"calllogs: details: {runs} {', '.join(failed_runs)} in {home} (`make ui`), "
            "or rerun with --verbose",
            file=sys.stderr,
            flush=True,
        )
    else:
        print(f"runs are recorded in {home}; see them with `make ui`", file=sys.stderr, flush=True)
    return EXIT_OK if failures == 0 else EXIT_FAILED


def _audit(args: argparse.Namespace) -> int:
    """Compare, narrow, re-sync what differs, compare those days again; exit 1 if any still do."""
    from dagster_project.runner import attach_progress, ensure_dagster_home, run_sync
    from pipeline.assistants import current_roster
    from pipeline.audit import recount, repair_runs, run_audit
    from pipeline.client import make_client

    settings = Settings.from_env()
    settings.require_api()
    since = args.since or settings.start_date
    until = datetime.now(UTC).date()
    if since >= until:
        raise ConfigError(f"--since {since} is not before today ({until}); nothing to compare")
    roster = current_roster(settings)
    warehouse = settings.warehouse()
    print(
        f"audit: {since} .. {until} ({count((until - since).days, 'day')}), "
        f"{count(len(roster.ids), 'assistant')}, compared by calendar month",
        flush=True,
    )
    with make_client(settings) as client:
        report = run_audit(
            client, warehouse, roster.ids, since, until, concurrency=settings.concurrency
        )
        for line in report.lines():
            print(line, flush=True)
        differences = report.differences
        days = count(len(differences), "day")
        differ = "differs" if len(differences) == 1 else "differ"
        summary = (
            f"audit: compared {count(len(report.assistants), 'assistant')} over "
            f"{count(sum(a.windows for a in report.assistants), 'window')} "
            f"({count(sum(a.api_total for a in report.assistants), 'call')} by the API's "
            f"count); {count(report.requests, 'request')} in {report.seconds:.1f}s"
        )
        if not differences:
            print(f"{summary}; everything matches", flush=True)
            return EXIT_OK
        if args.dry_run:
            print(f"{summary}; {days} {differ}; dry run: nothing re-synced", flush=True)
            _err(
                f"{days} {differ} from the API (see above); run `calllogs audit` to re-sync "
                + ("it" if len(differences) == 1 else "them")
            )
            return EXIT_FAILED
        home = ensure_dagster_home(settings)
        attach_progress(_progress)
        failed_runs: list[str] = []
        for run in repair_runs(differences, roster.names):
            print(f"re-syncing {run.describe()}", flush=True)
            outcome = run_sync(run.start, run.end, plan=run)
            if _report(run, outcome):
                failed_runs.append(outcome.run_id)
        still = recount(client, warehouse, differences)
    repaired = len(differences) - len(still)
    for difference in still:
        _err(
            f"assistant {difference.assistant_id} day {difference.day} still differs after the "
            f"re-sync: API total {difference.api_total}, warehouse {difference.stored}; run "
            "`calllogs audit` again later, and report it to the platform if it persists"
        )
    print(
        f"{summary}; {days} differed, re-synced them: {repaired} now match"
        + (f", {len(still)} still differ" if still else ""),
        flush=True,
    )
    if failed_runs or still:
        runs = count(len(failed_runs), "Dagster run")
        if failed_runs:
            print(
                f"calllogs: details: {runs} {', '.join(failed_runs)} in {home} (`make ui`)",
                file=sys.stderr,
                flush=True,
            )
        return EXIT_FAILED
    return EXIT_OK


def _plan(args: argparse.Namespace, settings: Settings) -> SyncPlan:
    """The current assistants (asked for, configured or listed), each planned from its state."""
    from pipeline.assistants import current_roster
    from pipeline.incremental import plan_from_warehouse, plan_requested

    if (args.start is None) != (args.end is None):
        raise ConfigError("give both --start and --end, or neither for the incremental sync")
    roster = current_roster(settings, only=args.assistant or ())
    if args.start is not None:
        return plan_requested(args.start, args.end, roster)
    return plan_from_warehouse(settings, settings.warehouse(), roster)


def _report(run: RunPlan, outcome: RunOutcome) -> int:
    """One line per removed or failed assistant, or for the run; the number of failures."""
    for removed in outcome.removed:
        _warn(removed.advice())
    for failed in outcome.failed:
        _err(failed.advice())
    unreadable = [o for o in outcome.assistants if o.unreadable]
    for partial in unreadable:
        _err(partial.unreadable_advice())
    if outcome.success:
        print(f"synced {run.describe()} (Dagster run {outcome.run_id})", flush=True)
        return len(unreadable)
    if outcome.failed:
        return len(outcome.failed) + len(unreadable)
    _err(f"{run.start} .. {run.end} not synced: {outcome.error}")
    return 1


def _doctor(args: argparse.Namespace) -> int:
    """Every check on a line of its own (ok / FAIL and what to do), then the next sync's plan."""
    from dagster_project.runner import describe_instance
    from pipeline import doctor
    from pipeline.client import make_client

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(doctor.Finding("configuration", False, str(exc)).line(), flush=True)
        return EXIT_FAILED
    findings = [doctor.Finding("configuration", True, "every CALL_LOGS_* setting is valid")]
    findings += [doctor.check_data_dir(settings), doctor.check_warehouse(settings)]
    findings.append(doctor.Finding("Dagster instance", *describe_instance(settings)))
    for finding in findings:
        print(finding.line(), flush=True)
    try:
        settings.require_api()
    except ConfigError as exc:
        print(doctor.Finding("API and key", False, str(exc)).line(), flush=True)
        return EXIT_FAILED
    with make_client(settings) as client:
        api, roster = doctor.check_api(settings, client)
        print(api.line(), flush=True)
        findings.append(api)
        if roster is not None:
            for finding in doctor.assistant_findings(roster, client):
                print(finding.line(), flush=True)
                findings.append(finding)
            plan, requests = doctor.next_sync(settings, roster, client)
            print("next `calllogs sync`:", flush=True)
            print("\n".join(plan.lines()), flush=True)
            print(f"estimated requests: ~{requests:,}", flush=True)
    return EXIT_OK if all(f.ok for f in findings) else EXIT_FAILED


def _settings(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    for name, value in settings.to_env().items():
        print(f"{name}={value}")
    for name, secret in (
        ("CALL_LOGS_API_KEY", settings.api_key),
        ("CALL_LOGS_PHONE_HASH_KEY", settings.phone_hash_key),
    ):
        print(f"{name}=<{'set' if secret else 'not set'}>")
    return EXIT_OK


def _simulate(args: argparse.Namespace) -> int:
    from simulator.cli import StartFailed, serve

    try:
        return serve(args, help_hint="calllogs simulate --help")
    except StartFailed as exc:
        raise ConfigError(str(exc)) from None


def _sql(args: argparse.Namespace) -> int:
    from pipeline.sqloptions import Output
    from pipeline.sqlshell import interactive, run_script

    settings = Settings.from_env()
    if not settings.warehouse_path.exists():
        raise ConfigError(
            f"no warehouse at {settings.warehouse_path}; run `calllogs sync` (or `make demo`) first"
        )
    warehouse = settings.warehouse()
    options = Output(args.format, max(args.max_rows, 0))
    if args.query is not None:
        run_script(warehouse, args.query, sys.stdout, options)
        return EXIT_OK
    if not sys.stdin.isatty():
        run_script(warehouse, sys.stdin.read(), sys.stdout, options)
        return EXIT_OK
    return interactive(warehouse, options=options)


def _report_page(args: argparse.Namespace) -> int:
    from pipeline.report import build_report

    settings = Settings.from_env()
    if not settings.warehouse_path.exists():
        raise ConfigError(
            f"no warehouse at {settings.warehouse_path}; run `calllogs sync` first (or `calllogs "
            "demo`, then `CALL_LOGS_DATA_DIR=demo-data calllogs report`)"
        )
    result = build_report(settings.warehouse(), args.out, days=args.days)
    print(result.summary(), flush=True)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from dagster_project.demo import run_demo

    return run_demo(days=args.days, seed=args.seed, data_dir=args.data_dir, echo=_progress)


def load_dotenv_file(directory: Path | None = None) -> Path | None:
    """Read ``.env`` of the current directory into the environment; set variables win."""
    path = (directory or Path.cwd()) / ".env"
    if not path.is_file():
        return None
    from dotenv import load_dotenv

    load_dotenv(path, override=False)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    # Dagster's beta/preview notices are for developers, not for someone running a sync.
    warnings.filterwarnings("ignore", module="dagster")
    warnings.filterwarnings("ignore", message=".*(beta|preview|experimental).*")
    parser = build_parser()
    args = parser.parse_args(argv)
    load_dotenv_file()
    handlers = {
        "sync": _sync,
        "audit": _audit,
        "doctor": _doctor,
        "settings": _settings,
        "simulate": _simulate,
        "sql": _sql,
        "report": _report_page,
        "demo": _demo,
    }
    try:
        return handlers[args.command](args)
    except QueryCancelled:
        _leave_cancelled_query()
    except KeyboardInterrupt:
        if args.command == "sql":  # a second Ctrl-C while the first one was cancelling
            _leave_cancelled_query()
        _err(_INTERRUPTED.get(args.command, "interrupted"))
        return EXIT_INTERRUPTED
    except CallLogsError as exc:
        _err(str(exc))
        return EXIT_FAILED
    except Exception as exc:  # a bug: still one line; the trace only when asked for
        if os.environ.get("CALL_LOGS_DEBUG"):
            raise
        _err(
            f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:300]}; this is a bug "
            "in calllogs — please report it (CALL_LOGS_DEBUG=1 shows the trace)"
        )
        return EXIT_FAILED


def _leave_cancelled_query() -> NoReturn:
    """One line, then out at once: DuckDB's threads may still be unwinding the interrupted
    statement, and a normal interpreter shutdown can then abort in C++ ("terminate called ...")
    - as can a further Ctrl-C arriving meanwhile, so those are ignored from here on."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _err(_INTERRUPTED["sql"])
    sys.stdout.flush()
    os._exit(EXIT_INTERRUPTED)


_INTERRUPTED = {
    "sync": "interrupted; rerun the same command — syncs are idempotent",
    "audit": "interrupted; rerun `calllogs audit` — what it re-synced so far is kept",
    "demo": "interrupted; run `calllogs demo` again — it starts over in its own data dir",
    "sql": "query cancelled; nothing was changed",
    "doctor": "interrupted; nothing was changed",
    "report": "interrupted; no page was written (an older one is left as it was)",
}


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
