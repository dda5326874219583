"""The commands around a sync: doctor, settings, simulate, sql, report and demo."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from dagster_project.cli.output import EXIT_FAILED, EXIT_OK, progress
from pipeline.config import Settings
from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.warehouse import Warehouse


def doctor_command(args: argparse.Namespace) -> int:
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


def settings_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    for name, value in settings.to_env().items():
        print(f"{name}={value}")
    for name, secret in (
        ("CALL_LOGS_API_KEY", settings.api_key),
        ("CALL_LOGS_PHONE_HASH_KEY", settings.phone_hash_key),
    ):
        print(f"{name}=<{'set' if secret else 'not set'}>")
    return EXIT_OK


def simulate(args: argparse.Namespace) -> int:
    from simulator.cli import StartFailed, serve

    try:
        return serve(args, help_hint="calllogs simulate --help")
    except StartFailed as exc:
        raise ConfigError(str(exc)) from None


def sql(args: argparse.Namespace) -> int:
    from pipeline.sqloptions import Output
    from pipeline.sqlshell import interactive, run_script

    warehouse = _existing_warehouse("run `calllogs sync` (or `make demo`) first")
    options = Output(args.format, max(args.max_rows, 0))
    if args.query is not None:
        run_script(warehouse, args.query, sys.stdout, options)
        return EXIT_OK
    if not sys.stdin.isatty():
        run_script(warehouse, sys.stdin.read(), sys.stdout, options)
        return EXIT_OK
    return interactive(warehouse, options=options)


def report(args: argparse.Namespace) -> int:
    from pipeline.report import build_report

    warehouse = _existing_warehouse(
        "run `calllogs sync` first (or `calllogs demo`, then "
        "`CALL_LOGS_DATA_DIR=demo-data calllogs report`)"
    )
    result = build_report(warehouse, args.out, days=args.days)
    print(result.summary(), flush=True)
    return EXIT_OK


def _existing_warehouse(what_to_do: str) -> Warehouse:
    """The configured warehouse, or one line saying there is none yet and what to do."""
    settings = Settings.from_env()
    if not settings.warehouse_path.exists():
        raise ConfigError(f"no warehouse at {settings.warehouse_path}; {what_to_do}")
    return settings.warehouse()


def demo(args: argparse.Namespace) -> int:
    from dagster_project.demo import run_demo

    return run_demo(days=args.days, seed=args.seed, data_dir=args.data_dir, echo=progress)
