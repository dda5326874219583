"""``python -m dagster_project.cli``: the same as ``calllogs``."""

import os
import sys

from dagster_project.cli.main import main

os.environ.setdefault("PYTHONUNBUFFERED", "1")
sys.exit(main())
