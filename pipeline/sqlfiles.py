"""Find and read the SQL files under ``sql/``: every statement the warehouse runs lives there.

The ``sql/`` directory sits at the repository root beside ``pipeline/``. An editable install (what
the project uses) finds it there; any other install points ``CALL_LOGS_SQL_DIR`` at a copy.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from pipeline.errors import ConfigError

SQL_DIR_ENV = "CALL_LOGS_SQL_DIR"


@cache
def sql_dir() -> Path:
    """The ``sql/`` directory: beside the package, else ``$CALL_LOGS_SQL_DIR``."""
    beside_package = Path(__file__).resolve().parent.parent / "sql"
    if beside_package.is_dir():
        return beside_package
    configured = os.environ.get(SQL_DIR_ENV, "").strip()
    if configured and Path(configured).is_dir():
        return Path(configured).resolve()
    raise ConfigError(
        f"the warehouse's SQL files are not at {beside_package}"
        + (f" nor at {SQL_DIR_ENV}={configured!r}" if configured else "")
        + f"; install the project editable (pip install -e .) or set {SQL_DIR_ENV} to the"
        " repository's sql/ directory"
    )


@cache
def read_sql(relative: str) -> str:
    """The text of one SQL file, e.g. ``read_sql("load/insert_call_logs.sql")``."""
    path = sql_dir() / relative
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read SQL file {path}: {exc.strerror or exc}") from None


def sql_files(folder: str) -> tuple[str, ...]:
    """The ``*.sql`` files of one folder of ``sql/`` (relative names), in name order."""
    directory = sql_dir() / folder
    if not directory.is_dir():
        raise ConfigError(f"SQL folder {directory} is missing; the installation is incomplete")
    return tuple(f"{folder}/{path.name}" for path in sorted(directory.glob("*.sql")))
