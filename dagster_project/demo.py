"""`make demo`: the bundled simulator, a real Dagster sync of the last days, a metrics table.

The demo never writes into the configured warehouse, lake or Dagster instance: everything goes to
a data dir of its own (``./demo-data`` unless ``--data-dir`` says otherwise), which it names.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEMO_DATA_DIR = Path("demo-data")

# Settings of the user's own platform that must not leak into the demo's sync.
_USER_SETTINGS = (
    "CALL_LOGS_LAKE_URL",
    "CALL_LOGS_S3_ENDPOINT_URL",
    "CALL_LOGS_HASH_PHONE_NUMBERS",
    "CALL_LOGS_PHONE_HASH_KEY",
)


def run_demo(*, days: int, seed: int, data_dir: Path | None, echo: Callable[[str], None]) -> int:
    from simulator import SimulatorConfig, SimulatorServer

    home_dir = (data_dir or DEMO_DATA_DIR).absolute()
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=days - 1), today + timedelta(days=1)
    config = SimulatorConfig(seed=seed, history_days=max(30, days + 2))
    with SimulatorServer(config) as sim:
        echo(f"simulator: {len(sim.assistant_ids)} assistants on {sim.url}")
        echo(f"demo data dir: {home_dir} (your configured warehouse is not touched)")
        for name in _USER_SETTINGS:
            os.environ.pop(name, None)
        os.environ["CALL_LOGS_API_URL"] = sim.url
        os.environ["CALL_LOGS_API_KEY"] = sim.api_key
        os.environ["CALL_LOGS_ASSISTANT_IDS"] = ""  # discover them via GET /assistant/list
        os.environ["CALL_LOGS_DATA_DIR"] = str(home_dir)
        os.environ["CALL_LOGS_START_DATE"] = sim.history_start.date().isoformat()
        os.environ["DAGSTER_HOME"] = str(home_dir / "dagster_home")

        # Imported only now: the Dagster definitions read the settings when they load.
        from dagster_project.runner import attach_progress, ensure_dagster_home, run_sync
        from pipeline.config import Settings

        settings = Settings.from_env()
        home = ensure_dagster_home(settings)
        attach_progress(echo)
        outcome = run_sync(start, end)
    if not outcome.success:
        echo(f"calllogs: error: demo sync failed (Dagster run {outcome.run_id}): {outcome.error}")
        return 1
    from pipeline.sqlfiles import read_sql
    from pipeline.sqlformat import format_table

    warehouse = settings.warehouse()
    summary = warehouse.query(
        read_sql("reports/assistant_summary.sql"), {"start_day": start, "end_day": end}
    )
    print(f"\nCalls per assistant, {start} .. {today} (UTC):")
    print(format_table(summary))
    print(
        f"\nWarehouse: {settings.warehouse_path}\n"
        f"Dagster runs: {home}\n"
        "Next:\n"
        "  make ui                                  # Dagster UI (with the simulator) on :3000\n"
        f"  CALL_LOGS_DATA_DIR={home_dir} .venv/bin/calllogs sql   # SQL on the demo warehouse\n"
        f"  CALL_LOGS_DATA_DIR={home_dir} .venv/bin/calllogs report   # charts: ./report.html",
        flush=True,
    )
    return 0
