"""The ``DAGSTER_HOME`` of a local sync or ``make ui``, seeded with the project's instance settings.

A new home gets ``dagster_project/dagster.yaml`` (pools, run limits, the batching event log). A home
whose ``dagster.yaml`` is exactly an earlier version of that file - never edited - is brought up to
the current one, so an upgrade gets the faster event log without losing a line anybody wrote; an
edited file is left alone (``calllogs doctor`` says what it lacks).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
from pathlib import Path
from typing import Final

# The instance defaults every local DAGSTER_HOME starts from, package data.
DEFAULT_DAGSTER_YAML: Final = importlib.resources.files("dagster_project") / "dagster.yaml"
# sha256 of the earlier defaults, as this project shipped them.
EARLIER_DEFAULTS: Final = frozenset(
    {"1c723f786953f7d9f4a6d404dba1339af23b001b5674958dc783e8ad1f378b0c"}
)
# How many events Dagster gathers into one batch before the event log writes them (it reads the
# variable for every event, in whichever process runs the step).
EVENT_BATCH_SIZE: Final = "10000"


def seed_dagster_yaml(home: Path) -> Path:
    """``home/dagster.yaml``: written when absent, upgraded when an unedited earlier default."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    current = DEFAULT_DAGSTER_YAML.read_text(encoding="utf-8")
    if not config.exists() or _digest(config.read_bytes()) in EARLIER_DEFAULTS:
        temporary = config.with_suffix(".yaml.tmp")
        temporary.write_text(current, encoding="utf-8")
        temporary.replace(config)
    return config


def batch_event_writes() -> None:
    """Let Dagster hand events to the event log in batches (unless the user chose a size)."""
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


if __name__ == "__main__":  # scripts/ui.sh: python -m dagster_project.instance_home DAGSTER_HOME
    import sys

    seed_dagster_yaml(Path(sys.argv[1]))
