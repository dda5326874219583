"""Runs the sync job in this process against the persistent instance in ``DAGSTER_HOME``.

``calllogs sync`` uses it, so every CLI sync is a real Dagster run that the UI lists.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.jobs import SYNC_JOB_NAME
from dagster_project.schedules import range_tags
from pipeline.config import Settings
from pipeline.errors import CallLogsError

PROJECT_DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    start: date
    end: date
    success: bool
    error: str | None


def ensure_dagster_home(settings: Settings) -> Path:
    """``DAGSTER_HOME`` or ``$CALL_LOGS_DATA_DIR/dagster_home``, seeded with our dagster.yaml."""
    settings.ensure_data_dir()
    home = Path(os.environ.get("DAGSTER_HOME") or settings.data_dir / "dagster_home").absolute()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() and PROJECT_DAGSTER_YAML.exists():
        shutil.copyfile(PROJECT_DAGSTER_YAML, config)
    os.environ["DAGSTER_HOME"] = str(home)
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
    while seen is not None:
        if isinstance(seen, CallLogsError):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return f"{type(exc).__name__}: {exc}"


def run_sync(
    start: date,
    end: date,
    *,
    instance: dg.DagsterInstance | None = None,
    quiet_dagster: bool = True,
) -> RunOutcome:
    """Materialise every asset for days ``[start, end)`` as one run (single-run backfill)."""
    job = defs.resolve_job_def(SYNC_JOB_NAME)
    run_config: dict[str, object] = {}
    if quiet_dagster:
        run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        target = instance or open_instance(Path(os.environ["DAGSTER_HOME"]))
        for run_id in reap_abandoned_runs(target):
            logging.getLogger("calllogs.progress").info(
                "marked run %s failed: the process running it had died", run_id
            )
        try:
            result = job.execute_in_process(
                instance=target,
                tags={
                    **range_tags(start, end),
                    PID_TAG: str(os.getpid()),
                    HOST_TAG: socket.gethostname(),
                },
                run_config=run_config,
                raise_on_error=True,
            )
        except Exception as exc:  # reported as one line; the run records the rest
            runs = target.get_runs(limit=1)
            run_id = runs[0].run_id if runs else "unknown"
            return RunOutcome(run_id, start, end, success=False, error=_user_error(exc))
    return RunOutcome(result.run_id, start, end, success=result.success, error=None)


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
