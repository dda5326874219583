"""``calllogs``: parse, dispatch to the command, and turn every failure into one line.

Every failure ends in one line on stderr saying what happened and what to do, and a non-zero exit;
an unexpected exception too (``CALL_LOGS_DEBUG=1`` shows its trace).
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from dagster_project.cli import runs, tools
from dagster_project.cli.output import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_INTERRUPTED, error
from dagster_project.cli.parser import build_parser
from pipeline.errors import CallLogsError, QueryCancelled


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
        "sync": runs.sync,
        "audit": runs.audit,
        "doctor": tools.doctor_command,
        "settings": tools.settings_command,
        "simulate": tools.simulate,
        "sql": tools.sql,
        "report": tools.report,
        "demo": tools.demo,
    }
    try:
        return handlers[args.command](args)
    except QueryCancelled:
        _leave_cancelled_query()
    except KeyboardInterrupt:
        if args.command == "sql":  # a second Ctrl-C while the first one was cancelling
            _leave_cancelled_query()
        error(_INTERRUPTED.get(args.command, "interrupted"))
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `calllogs sql ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit either
        return EXIT_BROKEN_PIPE
    except CallLogsError as exc:
        error(str(exc))
        return EXIT_FAILED
    except Exception as exc:  # a bug: still one line; the trace only when asked for
        if os.environ.get("CALL_LOGS_DEBUG"):
            raise
        error(
            f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:300]}; this is a bug "
            "in calllogs — please report it (CALL_LOGS_DEBUG=1 shows the trace)"
        )
        return EXIT_FAILED


def _leave_cancelled_query() -> NoReturn:
    """One line, then out at once: DuckDB's threads may still be unwinding the interrupted
    statement, and a normal interpreter shutdown can then abort in C++ ("terminate called ...")
    - as can a further Ctrl-C arriving meanwhile, so those are ignored from here on."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    error(_INTERRUPTED["sql"])
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
