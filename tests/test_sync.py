"""The library's two sync stages against the simulator on loopback (no Dagster)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from pipeline.assistants import CONFIGURED, Roster
from pipeline.client import CallLogsClient, make_client
from pipeline.config import Secret, Settings
from pipeline.incremental import plan_from_warehouse
from pipeline.lake import Lake
from pipeline.load import load_lake_into_warehouse
from pipeline.retry import RetryPolicy
from pipeline.sync import extract_to_lake
from pipeline.warehouse import Warehouse
from simulator import SimulatorConfig, SimulatorServer
from tests.e2e.helpers import assert_warehouse_equals_truth, truth_calls, warehouse_rows
from tests.simulator_client import FROZEN_NOW

START = FROZEN_NOW.date() - timedelta(days=2)
END = FROZEN_NOW.date() + timedelta(days=1)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorConfig(seed=8, now=FROZEN_NOW, history_days=5)) as server:
        yield server


def settings_for(sim: SimulatorServer, data_dir: Path, **env: str) -> Settings:
    return Settings.from_env(
        {
            "CALL_LOGS_API_URL": sim.url,
            "CALL_LOGS_API_KEY": sim.api_key,
            "CALL_LOGS_DATA_DIR": str(data_dir),
            "CALL_LOGS_START_DATE": "2026-11-01",
            **env,
        }
    )


def sync(settings: Settings, progress: list[str] | None = None) -> None:
    lake = Lake(settings.lake_location)
    with make_client(settings) as client:
        report = extract_to_lake(
            settings,
            START,
            END,
            client=client,
            lake=lake,
            now=FROZEN_NOW,
            progress=None if progress is None else progress.append,
        )
    assert report.total("api_total") == report.total("verified_calls")
    load_lake_into_warehouse(lake, Warehouse(settings.warehouse_path), START, END)


def test_library_sync_is_exact_and_reports_each_window(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(sim, tmp_path)
    lines: list[str] = []
    sync(settings, lines)
    start = FROZEN_NOW.replace(hour=0) - timedelta(days=2)
    assert_warehouse_equals_truth(settings.warehouse_path, sim, start, FROZEN_NOW)
    # one line per (assistant, day): assistant, day, calls, requests; then the overall line
    windows = [line for line in lines if not line.startswith("progress: ")]
    assert len(windows) == len(sim.assistant_ids) * 3
    assert all(" call" in line and "(API total" in line for line in windows)
    total = len(sim.assistant_ids) * 3
    assert lines[-1].startswith(f"progress: {total}/{total} assistant-days (100%)")
    assert lines[-1].endswith("done")


def test_incremental_plan_after_a_sync_rereads_only_the_lookback(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(sim, tmp_path)
    sync(settings)
    roster = Roster(ids=tuple(sim.assistant_ids), source=CONFIGURED)
    plan = plan_from_warehouse(
        settings, Warehouse(settings.warehouse_path), roster, now=FROZEN_NOW + timedelta(hours=1)
    )
    # synced up to 2026-11-20 12:00 (frozen), minus 48 h → from 2026-11-18, for each assistant;
    # they share the run(s), and nothing older than the open-call age is read.
    lookback = [FROZEN_NOW.date() - timedelta(days=n) for n in (2, 1, 0)]
    for assistant in plan.assistants:
        assert set(lookback) <= set(assistant.days)
        assert assistant.days[0] >= START - timedelta(days=14)
    assert plan.runs[-1].end == FROZEN_NOW.date() + timedelta(days=1)
    assert set(plan.runs[-1].assistants) == set(sim.assistant_ids)


def test_hashed_phone_numbers_never_store_the_number(sim: SimulatorServer, tmp_path: Path) -> None:
    settings = settings_for(
        sim, tmp_path, CALL_LOGS_HASH_PHONE_NUMBERS="1", CALL_LOGS_PHONE_HASH_KEY="test-hash-key"
    )
    sync(settings)
    start = FROZEN_NOW.replace(hour=0) - timedelta(days=2)
    calls, _ = truth_calls(sim, start, FROZEN_NOW)
    numbers = {r["to_number"] for r in calls.values() if isinstance(r.get("to_number"), str)}
    assert numbers
    stored = {
        row[0]
        for row in warehouse_rows(
            settings.warehouse_path, "SELECT DISTINCT to_number FROM call_logs"
        )
    }
    assert not stored & numbers
    # Attempts per number can still be counted: one hash per distinct number.
    assert len(stored) == len(numbers)
    lake = Lake(settings.lake_location)
    texts: list[str] = []
    for table in ("call_logs", "transcripts", "rejected_logs"):
        data = lake.read_table(table)
        for name in data.column_names:
            texts.extend(str(value) for value in data.column(name).to_pylist())
    for table in ("call_logs", "rejected_logs"):
        rows = warehouse_rows(settings.warehouse_path, f"SELECT * FROM {table}")
        texts.extend(str(value) for row in rows for value in row)
    everything = "\n".join(texts)
    assert [n for n in numbers if n in everything] == []


class BrokenFor(httpx.BaseTransport):
    """The real socket for everyone but one assistant, whose pages always answer 500."""

    def __init__(self, assistant_id: str) -> None:
        self._broken = assistant_id
        self._real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._broken in request.url.path:
            message = "Internal Server Error: 1 validation error\n  twice"
            return httpx.Response(500, json={"success": False, "message": message, "data": {}})
        return self._real.handle_request(request)

    def close(self) -> None:
        self._real.close()


def test_one_assistants_exhausted_retries_leave_the_others_synced(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    settings = settings_for(sim, tmp_path)
    broken, *healthy = sim.assistant_ids
    lake = Lake(settings.lake_location)
    client = CallLogsClient(
        sim.url, Secret(sim.api_key), retry=RetryPolicy(budget_s=1.0, base_delay_s=0.01),
        transport=BrokenFor(broken),
    )  # fmt: skip
    with client:
        report = extract_to_lake(
            settings,
            START,
            END,
            client=client,
            lake=lake,
            now=FROZEN_NOW,
            assistants=sim.assistant_ids,
        )
    failed = {o.assistant_id: o for o in report.outcomes if o.status == "failed"}
    assert list(failed) == [broken]
    assert failed[broken].error_kind == "unavailable"
    assert "\n" not in (failed[broken].error or "")  # a multi-line server message, one line
    assert failed[broken].failed_days == [START + timedelta(days=n) for n in range(3)]
    stats = load_lake_into_warehouse(
        lake, Warehouse(settings.warehouse_path), START, END, outcomes=report.outcomes, run_id="r1"
    )
    assert stats.partitions == 3 * len(healthy)
    start = FROZEN_NOW.replace(hour=0) - timedelta(days=2)
    assert_warehouse_equals_truth(settings.warehouse_path, sim, start, FROZEN_NOW, healthy)
    rows = warehouse_rows(
        settings.warehouse_path,
        "SELECT count(*) FROM sync_status WHERE assistant_id = ? AND status = 'failed'",
        [broken],
    )
    assert rows == [(3,)]


def test_progress_lines_read_as_plain_english() -> None:
    from datetime import date

    from pipeline.sync import PartitionReport, _progress_line

    def line(calls: int, requests: int) -> str:
        part = PartitionReport(date(2026, 11, 1), "a", calls, 0, 0, 0, calls, calls, requests)
        return _progress_line(part)

    assert "1 call, 1 request (" in line(1, 1)
    assert "2 calls, 3 requests (" in line(2, 3)
    assert "0 requests" not in line(5, 0) and "read with the days around it" in line(5, 0)


def test_the_overall_line_estimates_what_is_left() -> None:
    from pipeline.progress import OverallProgress

    overall = OverallProgress(total=700)
    overall.done = 70
    assert overall.line(60.0) == "progress: 70/700 assistant-days (10%), 1m00s elapsed, ETA 9m00s"
    overall.done = 7
    assert overall.line(3700.0).endswith("1h01m elapsed, ETA 101h45m")
