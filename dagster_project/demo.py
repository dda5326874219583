"""`make demo`: the bundled simulator, a real Dagster sync of the last days, a metrics table."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pipeline.config import Settings


def run_demo(*, days: int, seed: int, echo: Callable[[str], None]) -> int:
    from pipeline.simulator import SimulatorConfig, SimulatorServer

    settings = Settings.from_env()
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=days - 1), today + timedelta(days=1)
    config = SimulatorConfig(seed=seed, history_days=max(30, days + 2))
    with SimulatorServer(config) as sim:
        echo(f"simulator: {len(sim.assistant_ids)} assistants on {sim.url}")
        os.environ["CALL_LOGS_API_URL"] = sim.url
        os.environ["CALL_LOGS_API_KEY"] = sim.api_key
        os.environ["CALL_LOGS_ASSISTANT_IDS"] = ""  # discover them via GET /assistant/list
        os.environ.setdefault("CALL_LOGS_DATA_DIR", str(settings.data_dir))

        from dagster_project.runner import attach_progress, ensure_dagster_home, run_sync

        home = ensure_dagster_home(Settings.from_env())
        attach_progress(echo)
        outcome = run_sync(start, end)
    if not outcome.success:
        echo(f"calllogs: error: demo sync failed (Dagster run {outcome.run_id}): {outcome.error}")
        return 1
    from pipeline.sqlfiles import read_sql
    from pipeline.sqlshell import format_table
    from pipeline.warehouse import Warehouse

    warehouse = Warehouse(settings.warehouse_path)
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
        "  .venv/bin/calllogs sql                   # interactive SQL prompt\n"
        '  .venv/bin/calllogs sql "SELECT call_date, assistant_id, calls, answer_rate '
        'FROM daily_assistant_metrics ORDER BY 1 DESC LIMIT 10"',
        flush=True,
    )
    return 0
