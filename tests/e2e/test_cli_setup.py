"""Setting up as a person does: `.env`, the demo beside a real warehouse, a busy simulator port."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator import SimulatorConfig, SimulatorServer
from tests.e2e.test_cli import SECRET_KEY, base_env, run
from tests.simulator_client import FROZEN_NOW

ROOT = Path(__file__).resolve().parents[2]
A = "550e8400-e29b-41d4-a716-446655440000"
B = "550e8400-e29b-41d4-a716-446655440001"
NOISE = ("Traceback", "Stack Trace", "STEP_FAILURE", SECRET_KEY)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALL_LOGS_", "DAGSTER_"))}
    return {**env, **extra}


def test_dotenv_in_the_current_directory_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"CALL_LOGS_ASSISTANT_IDS={A}\nCALL_LOGS_START_DATE=2026-11-01\n", encoding="utf-8"
    )
    env = clean_env(CALL_LOGS_DATA_DIR=str(tmp_path / "data"))
    from_file = run(["sync", "--dry-run"], env, cwd=tmp_path)
    assert from_file.returncode == 0, from_file.stderr
    assert f"assistant {A}: never synced: everything from 2026-11-01" in from_file.stdout
    env["CALL_LOGS_ASSISTANT_IDS"] = B
    overridden = run(["sync", "--dry-run"], env, cwd=tmp_path)
    assert B in overridden.stdout and A not in overridden.stdout


def test_the_demo_never_touches_the_configured_warehouse(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=2, now=FROZEN_NOW, history_days=3, api_key=SECRET_KEY)
    with SimulatorServer(config) as sim:
        real = tmp_path / "real"
        env = base_env(sim, real, CALL_LOGS_START_DATE="2026-11-17")
        synced = run(["sync", "--start", "2026-11-18", "--end", "2026-11-20"], env)
        assert synced.returncode == 0, synced.stderr
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in real.rglob("*") if p.is_file()}
    demo = run(["demo", "--days", "2"], env, cwd=tmp_path, timeout=300)
    assert demo.returncode == 0, demo.stderr
    for noise in NOISE:
        assert noise not in demo.stdout + demo.stderr
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in real.rglob("*") if p.is_file()}
    assert after == before
    assert (tmp_path / "demo-data" / "warehouse.duckdb").is_file()
    assert str(tmp_path / "demo-data") in demo.stderr  # it says where it writes


def test_a_busy_simulator_port_is_one_line_naming_it(tmp_path: Path, busy_port: int) -> None:
    result = run(["simulate", "--port", str(busy_port)], clean_env(), cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {busy_port}" in lines[0] and "CALL_LOGS_SIM_PORT" in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_make_ui_on_a_busy_simulator_port_stops_with_one_line(
    tmp_path: Path, busy_port: int
) -> None:
    env = clean_env(
        CALL_LOGS_SIM_PORT=str(busy_port),
        CALL_LOGS_DATA_DIR=str(tmp_path / "data"),
        PATH=os.environ["PATH"],
    )
    result = subprocess.run(
        ["bash", "scripts/ui.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {busy_port}" in lines[0], result.stderr
    assert "unbound variable" not in result.stderr


def test_doctor_checks_everything_and_prints_the_next_sync(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=6, now=FROZEN_NOW, history_days=3, api_key=SECRET_KEY)
    with SimulatorServer(config) as sim:
        env = base_env(sim, tmp_path / "data", CALL_LOGS_START_DATE="2026-11-17")
        healthy = run(["doctor"], env)
        wrong_key = run(["doctor"], {**env, "CALL_LOGS_API_KEY": "not-the-key"})
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    lines = healthy.stdout.splitlines()
    checks = [line for line in lines if line.startswith(("ok ", "FAIL"))]
    assert checks and all(line.startswith("ok ") for line in checks)
    assert len([line for line in checks if line.startswith("ok   assistant ")]) == 4
    assert any("API and key" in line and "4 assistants listed" in line for line in checks)
    assert any(line.startswith("estimated requests: ~") for line in lines)
    assert any("never synced: everything from 2026-11-17" in line for line in lines)
    assert wrong_key.returncode == 1
    failed = [line for line in wrong_key.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and "CALL_LOGS_API_KEY" in failed[0]
    for result in (healthy, wrong_key):
        for noise in NOISE:
            assert noise not in result.stdout + result.stderr
        assert "not-the-key" not in result.stdout + result.stderr


def test_a_bad_setting_is_one_line_in_the_cli_and_in_make_ui(tmp_path: Path) -> None:
    env = clean_env(CALL_LOGS_DATA_DIR=str(tmp_path / "data"), CALL_LOGS_CONCURRENCY="abc")
    expected = "calllogs: error: CALL_LOGS_CONCURRENCY='abc' is not a whole number"
    for args in (["settings"], ["sync", "--dry-run"], ["doctor"]):
        result = run(args, env, cwd=tmp_path)
        assert result.returncode == 1, args
        output = result.stderr.strip() or result.stdout.strip()
        assert expected.removeprefix("calllogs: error: ") in output, (args, output)
        assert len(output.splitlines()) == 1, (args, output)
    ui = subprocess.run(
        ["bash", "scripts/ui.sh"], cwd=ROOT, env={**env, "PATH": os.environ["PATH"]},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ui.returncode == 1
    assert ui.stderr.strip().splitlines() == [expected]
    assert "Traceback" not in ui.stdout + ui.stderr


def test_settings_prints_what_every_command_would_use_but_no_secret(tmp_path: Path) -> None:
    env = clean_env(
        CALL_LOGS_DATA_DIR=str(tmp_path / "data"),
        CALL_LOGS_API_KEY=SECRET_KEY,
        CALL_LOGS_SCHEDULE_CRON="*/15 * * * *",
    )
    result = run(["settings"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"CALL_LOGS_DATA_DIR={tmp_path / 'data'}" in lines
    assert "CALL_LOGS_SCHEDULE_CRON=*/15 * * * *" in lines
    assert "CALL_LOGS_API_KEY=<set>" in lines and "CALL_LOGS_PHONE_HASH_KEY=<not set>" in lines
    assert SECRET_KEY not in result.stdout + result.stderr
