"""``calllogs``: sync (as Dagster runs), audit, doctor, settings, simulate, sql, report, demo.

``main`` parses and dispatches (``cli.main``); the commands live by what they do: ``runs`` (sync
and audit, which run the Dagster job), ``tools`` (the rest); ``parser`` is the command line and
``output`` the one-line messages and exit codes.
"""

from dagster_project.cli.main import load_dotenv_file, main
from dagster_project.cli.parser import build_parser

__all__ = ["build_parser", "load_dotenv_file", "main"]
