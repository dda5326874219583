"""Find and read the SQL files: every statement the warehouse runs lives in ``sql/``.

``sql/`` sits at the repository root beside ``pipeline/`` and ships inside the package as
``pipeline/sql`` (``pyproject.toml`` maps the one onto the other), so an installed wheel reads its
files through :mod:`importlib.resources` and an editable install of the checkout reads ``sql/``.
``CALL_LOGS_SQL_DIR`` overrides both (to try changed SQL without reinstalling).
"""

from __future__ import annotations

import importlib.resources
import os
from functools import cache
from importlib.resources.abc import Traversable
from pathlib import Path

from pipeline.errors import ConfigError

SQL_DIR_ENV = "CALL_LOGS_SQL_DIR"
_CHECKOUT = Path(__file__).resolve().parent.parent / "sql"


@cache
def sql_dir() -> Traversable:
    """``$CALL_LOGS_SQL_DIR``, else the package's own ``sql``, else the checkout's ``sql/``."""
    configured = os.environ.get(SQL_DIR_ENV, "").strip()
    if configured:
        if not Path(configured).is_dir():
            raise ConfigError(f"{SQL_DIR_ENV}={configured!r} is not a directory; unset it")
        return Path(configured).resolve()
    packaged = importlib.resources.files("pipeline") / "sql"
    if packaged.is_dir():
        return packaged
    if _CHECKOUT.is_dir():
        return _CHECKOUT
    raise ConfigError(
        "the warehouse's SQL files are missing from the installation (pipeline/sql); "
        "reinstall the package"
    )


@cache
def read_sql(relative: str) -> str:
    """The text of one SQL file, e.g. ``read_sql("load/insert_call_logs.sql")``."""
    path = sql_dir().joinpath(*relative.split("/"))
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read SQL file {relative}: {exc.strerror or exc}") from None


def sql_files(folder: str) -> tuple[str, ...]:
    """The ``*.sql`` files of one folder of ``sql/`` (relative names), in name order."""
    directory = sql_dir() / folder
    if not directory.is_dir():
        raise ConfigError(f"SQL folder {folder} is missing; the installation is incomplete")
    names = sorted(entry.name for entry in directory.iterdir() if entry.name.endswith(".sql"))
    return tuple(f"{folder}/{name}" for name in names)
