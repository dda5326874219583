"""The commands that run the sync job as Dagster runs: ``sync`` and ``audit``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dagster_project.cli.output import EXIT_FAILED, EXIT_OK, error, progress, warn
from dagster_project.cli.startup import skip_pandas_probe
from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.wording import count

if TYPE_CHECKING:
    from dagster_project.runner import RunOutcome
    from pipeline.incremental import RunPlan, SyncPlan


def sync(args: argparse.Namespace) -> int:
    skip_pandas_probe()
    from dagster_project.runner import (
        attach_progress,
        ensure_dagster_home,
        instance_for_runs,
        run_sync,
    )

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
    attach_progress(progress)
    for line in plan.lines():
        progress(line)
    failed_runs: list[str] = []
    failures = 0
    with instance_for_runs(home) as instance:
        for run in plan.runs:
            outcome = run_sync(run.start, run.end, plan=run, instance=instance)
            problems = _report_run(run, outcome)
            failures += problems
            if problems:
                failed_runs.append(outcome.run_id)
    if failures:
        _details(failed_runs, home, ", or rerun with --verbose")
    else:
        print(f"runs are recorded in {home}; see them with `make ui`", file=sys.stderr, flush=True)
    return EXIT_OK if failures == 0 else EXIT_FAILED


def audit(args: argparse.Namespace) -> int:
    """Compare, narrow, re-sync what differs, compare those days again; exit 1 if any still do."""
    skip_pandas_probe()
    from dagster_project.runner import (
        attach_progress,
        ensure_dagster_home,
        instance_for_runs,
        run_sync,
    )
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
            error(
                f"{days} {differ} from the API (see above); run `calllogs audit` to re-sync "
                + ("it" if len(differences) == 1 else "them")
            )
            return EXIT_FAILED
        home = ensure_dagster_home(settings)
        attach_progress(progress)
        failed_runs: list[str] = []
        with instance_for_runs(home) as instance:
            for run in repair_runs(differences, roster.names):
                print(f"re-syncing {run.describe()}", flush=True)
                outcome = run_sync(run.start, run.end, plan=run, instance=instance)
                if _report_run(run, outcome):
                    failed_runs.append(outcome.run_id)
        still = recount(client, warehouse, differences)
    repaired = len(differences) - len(still)
    for difference in still:
        error(
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
        if failed_runs:
            _details(failed_runs, home)
        return EXIT_FAILED
    return EXIT_OK


def _details(run_ids: Sequence[str], home: Path, more: str = "") -> None:
    """The closing pointer of a failed command: the Dagster runs that hold the details."""
    runs = count(len(run_ids), "Dagster run")
    print(
        f"calllogs: details: {runs} {', '.join(run_ids)} in {home} (`make ui`){more}",
        file=sys.stderr,
        flush=True,
    )


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


def _report_run(run: RunPlan, outcome: RunOutcome) -> int:
    """One line per removed or failed assistant, or for the run; the number of failures."""
    for removed in outcome.removed:
        warn(removed.advice())
    for failed in outcome.failed:
        error(failed.advice())
    unreadable = [o for o in outcome.assistants if o.unreadable]
    for partial in unreadable:
        error(partial.unreadable_advice())
    if outcome.success:
        print(f"synced {run.describe()} (Dagster run {outcome.run_id})", flush=True)
        return len(unreadable)
    if outcome.failed:
        return len(outcome.failed) + len(unreadable)
    error(f"{run.start} .. {run.end} not synced: {outcome.error}")
    return 1
