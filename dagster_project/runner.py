"""Runs the sync job in this process against the persistent instance in ``DAGSTER_HOME``.

``calllogs sync`` uses it, so every CLI sync is a real Dagster run that the UI lists.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import dagster as dg

from dagster_project.definitions import build_definitions
from dagster_project.instance_home import batch_event_writes, seed_dagster_yaml
from dagster_project.jobs import SYNC_JOB_NAME
from dagster_project.run_plan import run_config_for
from dagster_project.schedules import range_tags, run_tags
from pipeline.config import Settings
from pipeline.errors import CallLogsError
from pipeline.incremental import RunPlan
from pipeline.outcome import FAILED, REMOVED, AssistantOutcome, from_table, with_status
from pipeline.wording import count


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    start: date
    end: date
    success: bool
    error: str | None
    assistants: tuple[AssistantOutcome, ...] = ()

    @property
    def failed(self) -> list[AssistantOutcome]:
        return with_status(self.assistants, FAILED)

    @property
    def removed(self) -> list[AssistantOutcome]:
        return with_status(self.assistants, REMOVED)


@cache
def definitions_for(settings: Settings) -> dg.Definitions:
    """The definitions for these settings, built once per process and settings."""
    return build_definitions(settings)


def ensure_dagster_home(settings: Settings) -> Path:
    """``DAGSTER_HOME`` or ``$CALL_LOGS_DATA_DIR/dagster_home``, seeded with our dagster.yaml."""
    settings.ensure_data_dir()
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir / "dagster_home").absolute()
    seed_dagster_yaml(home)
    os.environ["DAGSTER_HOME"] = str(home)
    batch_event_writes()
    return home


def open_instance(home: Path) -> dg.DagsterInstance:
    """The instance in ``home``; its first opening creates the SQLite schemas, one at a time.

    Several ``calllogs sync`` started at once on a new ``DAGSTER_HOME`` would otherwise race to
    create the same tables ("table alembic_version already exists").
    """
    with (home / ".calllogs-init.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            instance = dg.DagsterInstance.get()
            instance.get_runs(limit=1)
            instance.get_latest_materialization_event(dg.AssetKey("raw_call_logs"))
            return instance
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def instance_for_runs(home: Path) -> Iterator[dg.DagsterInstance]:
    """One instance for every run a command starts: opened once, disposed when the command ends.

    Opening builds its SQLite storages (and checks their schema) each time; a sync of several
    runs, or an audit that re-syncs, pays that once.
    """
    instance = open_instance(home)
    try:
        yield instance
    finally:
        instance.dispose()


def describe_instance(settings: Settings) -> tuple[bool, str]:
    """Whether the Dagster instance opens, and what it holds (for ``calllogs doctor``)."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir / "dagster_home").absolute()
    if not (home / "dagster.yaml").exists():
        return True, f"{home} not created yet (the first sync creates it)"
    os.environ.setdefault("DAGSTER_HOME", str(home))  # the event log's config reads it
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import (  # noqa: PLC0415
        SqliteEventLogStorage,  # only here: it imports SQLAlchemy and alembic
    )

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with dg.DagsterInstance.from_config(str(home)) as instance:
                runs = instance.get_runs(limit=1)
                total = instance.get_runs_count()
                slow_log = type(instance.event_log_storage) is SqliteEventLogStorage
    except Exception as exc:  # any failure to open is the finding itself
        return False, f"{home} does not open ({type(exc).__name__}: {' '.join(str(exc).split())})"
    last = f"; last run {runs[0].status.value.lower()}" if runs else ""
    advice = (
        "; its dagster.yaml (edited) writes events one by one: add the event_log_storage section "
        "of dagster_project/dagster.yaml for faster runs"
        if slow_log
        else ""
    )
    return True, f"{home}: {count(total, 'run')}{last}{advice}"


PID_TAG = "calllogs/pid"
HOST_TAG = "calllogs/host"
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail the runs of ``calllogs`` processes on this host that died (SIGKILL, power cut).

    An in-process run holds its pool slots (``call_logs_api``, ``warehouse``) until it ends; a
    killed process never ends it, and every later run would wait for those slots forever.
    """
    reaped = []
    runs = instance.get_runs(
        filters=dg.RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: socket.gethostname()})
    )
    for run in runs:
        pid = int(run.tags.get(PID_TAG, "0") or 0)
        if pid and pid != os.getpid() and not _alive(pid):
            instance.report_run_failed(
                run, f"calllogs process {pid} ended without finishing this run (killed?)"
            )
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            reaped.append(run.run_id)
    return reaped


def _user_error(exc: BaseException) -> str:
    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:  # chains can loop back on themselves
        if isinstance(seen, CallLogsError):
            return str(seen)
        visited.add(id(seen))
        seen = seen.__cause__ or seen.__context__
    return f"{type(exc).__name__}: {exc}"


def run_sync(
    start: date,
    end: date,
    *,
    plan: RunPlan | None = None,
    instance: dg.DagsterInstance | None = None,
    quiet_dagster: bool = True,
) -> RunOutcome:
    """Materialise every asset for days ``[start, end)`` as one run (single-run backfill).

    With ``plan`` each assistant reads only its own days; without, every current assistant
    reads them all. The outcome says, per assistant, what the run did.
    """
    job = definitions_for(Settings.from_env()).resolve_job_def(SYNC_JOB_NAME)
    run_config: dict[str, object] = dict(run_config_for(plan)) if plan is not None else {}
    if quiet_dagster:
        run_config["loggers"] = {"console": {"config": {"log_level": "CRITICAL"}}}
    run_id = str(uuid.uuid4())
    tags = run_tags(plan) if plan is not None else range_tags(start, end)
    opened = (
        nullcontext(instance)
        if instance is not None
        else instance_for_runs(Path(os.environ["DAGSTER_HOME"]))
    )
    with warnings.catch_warnings(), opened as target:
        warnings.simplefilter("ignore")
        for reaped in reap_abandoned_runs(target):
            logging.getLogger("calllogs.progress").info(
                "marked run %s failed: the process running it had died", reaped
            )
        error: str | None = None
        try:
            result = job.execute_in_process(
                instance=target,
                tags={**tags, PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()},
                run_config=run_config,
                run_id=run_id,
                raise_on_error=True,
            )
        except Exception as exc:  # reported as one line; the run records the rest
            success, error = False, _user_error(exc)
        else:
            success = result.success
    return RunOutcome(
        run_id, start, end, success=success, error=error, assistants=_assistants_of(run_id)
    )


def _assistants_of(run_id: str) -> tuple[AssistantOutcome, ...]:
    """What the run's extraction recorded per assistant (nothing when it stopped before)."""
    record = Settings.from_env().lake().read_run_record(run_id)
    return () if record is None else tuple(from_table(record))


class _Echo(logging.Handler):
    def __init__(self, echo: Callable[[str], None]) -> None:
        super().__init__()
        self.echo = echo

    def emit(self, record: logging.LogRecord) -> None:
        self.echo(record.getMessage())


def attach_progress(echo: Callable[[str], None]) -> None:
    """Send the pipeline's progress lines (not Dagster's verbose log) to ``echo``."""
    progress = logging.getLogger("calllogs.progress")
    progress.setLevel(logging.INFO)
    progress.propagate = False
    for handler in [h for h in progress.handlers if isinstance(h, _Echo)]:
        progress.removeHandler(handler)
    progress.addHandler(_Echo(echo))
