"""The /_sim/ admin API, the `serve_forever` entry point, and serving many pages concurrently."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from simulator import SimulatorConfig, SimulatorServer
from simulator.cli import read_exports
from tests.simulator_client import FROZEN_NOW, SimClient

from .conftest import Started

REPO = Path(__file__).resolve().parents[2]


def test_admin_clock_truth_insert_and_stats(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim()
    aid = server.assistant_ids[0]
    assert datetime.fromisoformat(api.admin("GET", "now")["now"]) == FROZEN_NOW
    moved = api.admin("POST", "advance", seconds=90)
    assert datetime.fromisoformat(moved["now"]) == FROZEN_NOW + timedelta(seconds=90)
    assert server.now() == FROZEN_NOW + timedelta(seconds=90)

    record = api.admin("POST", f"insert/{aid}", started_at="2026-11-19T00:00:00Z", final="true")
    truth = api.admin("GET", f"truth/{aid}", start="2026-11-19", end="2026-11-19T00:00:00.001Z")
    assert record in truth
    assert truth == server.truth(
        aid, datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 19, 0, 0, 0, 1000, tzinfo=UTC)
    )
    assert api.admin("GET", "assistants")["assistant_ids"] == server.assistant_ids
    api.logs(aid)
    stats = api.admin("GET", "stats")
    assert stats["inserts"] == 1
    assert stats["call_log_requests"] == 1
    assert stats["admin_requests"] >= 5

    api.admin("POST", "set_now", when=FROZEN_NOW.isoformat())
    assert server.now() == FROZEN_NOW
    bad = api.http.post("/_sim/advance", params={"seconds": "soon"})
    assert bad.status_code == 400
    assert api.http.get(f"/_sim/truth/{'0' * 8}").status_code == 400
    assert api.http.get("/_sim/nothing").status_code == 404


def test_serve_forever_prints_exports_and_stops_on_sigterm() -> None:
    code = (
        "import sys; from simulator.cli import serve_forever; "
        "sys.exit(serve_forever(0, 3, '500=0.5', 20, 2, 2, 0.0))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    watchdog = threading.Timer(60, proc.kill)  # a hung child must not hang the suite
    watchdog.start()
    try:
        assert proc.stdout is not None
        exports = read_exports(proc.stdout)
        assert exports is not None
        assert set(exports) == {"CALL_LOGS_API_URL", "CALL_LOGS_API_KEY", "CALL_LOGS_ASSISTANT_IDS"}
        ids = exports["CALL_LOGS_ASSISTANT_IDS"].split(",")
        assert len(ids) == 2
        response = httpx.get(
            f"{exports['CALL_LOGS_API_URL']}/assistant/list",
            headers={"Authorization": f"Bearer {exports['CALL_LOGS_API_KEY']}"},
        )
        assert response.status_code in {200, 500}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_serves_many_pages_to_concurrent_keep_alive_clients() -> None:
    config = SimulatorConfig(now=FROZEN_NOW, history_days=6, calls_per_day=250, tie_burst_rate=0)
    with SimulatorServer(config) as sim:
        expected = {
            aid: len(sim.truth(aid, sim.history_start, FROZEN_NOW + timedelta(milliseconds=1)))
            for aid in sim.assistant_ids
        }

        def fetch(aid: str) -> int:
            with SimClient(sim.url, sim.api_key) as api:
                records = api.all_pages(aid, limit=100, sort_order="asc")
                return len({r.get("room_name") or r["started_at"] for r in records})

        with ThreadPoolExecutor(max_workers=4) as pool:
            served = dict(zip(sim.assistant_ids, pool.map(fetch, sim.assistant_ids), strict=True))
        assert served == expected
        assert sum(expected.values()) > 5000
        assert sim.stats()["records_served"] == sum(expected.values())


def test_python_m_simulator_is_the_same_command_line_as_calllogs_simulate() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CALL_LOGS_SIM_PORT"}
    env["PYTHONPATH"] = str(REPO)
    helps = [
        subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=REPO, timeout=60, check=True
        ).stdout
        for command in (
            [sys.executable, "-m", "simulator", "--help"],
            [str(Path(sys.executable).with_name("calllogs")), "simulate", "--help"],
        )
    ]
    options = [{word for word in text.split() if word.startswith("--")} for text in helps]
    assert options[0] == options[1] and "--port" in options[0]
    assert all(
        "CALL_LOGS_SIM_PORT or 8787" in " ".join(text.replace("$", "").split()) for text in helps
    )
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        busy = subprocess.run(
            [sys.executable, "-m", "simulator", "--port", str(port)],
            capture_output=True, text=True, env=env, cwd=REPO, timeout=60, check=False,
        )  # fmt: skip
    assert busy.returncode == 1
    (line,) = busy.stderr.splitlines()
    assert line.startswith(f"simulator: error: port {port} on 127.0.0.1 is already in use")
