"""What every ``calllogs`` command prints: one ``calllogs: error:`` line per problem, progress on
stderr, and the exit codes."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_BROKEN_PIPE = 141  # what a shell reports for a tool SIGPIPE stopped


def error(message: str) -> None:
    print(f"calllogs: error: {message}", file=sys.stderr, flush=True)


def warn(message: str) -> None:
    print(f"calllogs: warning: {message}", file=sys.stderr, flush=True)


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
