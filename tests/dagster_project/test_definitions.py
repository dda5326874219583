"""The code location and the shipped instance config load with Dagster's own validation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.event_log import BatchingSqliteEventLogStorage

ROOT = Path(__file__).resolve().parents[2]


def test_dagster_definitions_validate_passes() -> None:
    dagster_cli = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster_cli), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "passed validation" in result.stderr + result.stdout


def test_shipped_dagster_yaml_is_a_valid_instance_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copyfile(ROOT / "dagster_project" / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # the event log's location comes from it
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage)
        settings = instance.get_concurrency_config()
        assert settings.pool_config.default_pool_limit == 1
        assert settings.run_queue_config is not None
        assert settings.run_queue_config.max_concurrent_runs == 4
