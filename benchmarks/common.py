"""Shared plumbing of the benchmark suite: the simulator process, measured subprocesses, windows.

Everything here talks to 127.0.0.1 only, and everything is bounded: the simulator is started with a
start-up deadline and stopped in ``finally``; every subprocess has a timeout after which its process
group (it is started in a session of its own) is killed; every HTTP client has a timeout.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from simulator.cli import read_exports

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench-results"
RESULT_PREFIX = "BENCH_RESULT "
MB = 1024 * 1024
# A call that starts before midnight may become visible up to 6 h later (the simulator's late
# calls), so the window ends at a midnight at least this long ago: its truth no longer changes.
SETTLE = timedelta(hours=7)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def settled_end_day(now: datetime | None = None) -> date:
    """The exclusive end day of a window whose every call is visible and final now."""
    return ((now or datetime.now(UTC)) - SETTLE).date()


def bound(moment: datetime) -> str:
    """The API's documented timestamp shape (what the pipeline sends)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def day_bounds(start_day: date, end_day: date) -> tuple[str, str]:
    """``start_date``/``end_date`` (inclusive, ms precision) asking for days ``[start, end)``."""
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=UTC)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=UTC)
    return bound(start), bound(end - timedelta(milliseconds=1))


def days(start_day: date, end_day: date) -> list[date]:
    return [start_day + timedelta(days=i) for i in range((end_day - start_day).days)]


# --- the simulator, in its own process ----------------------------------------------------------


@dataclass(frozen=True)
class SimSpec:
    seed: int
    calls_per_day: int
    history_days: int
    assistants: int = 4
    latency_ms: float = 0.0


@dataclass(frozen=True)
class Truth:
    calls: int
    utterances: int
    json_bytes: int


class Simulator:
    """``python -m simulator`` on a free loopback port; use as a context manager."""

    def __init__(self, spec: SimSpec, *, startup_timeout_s: float = 60.0) -> None:
        self.spec = spec
        self._timeout = startup_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        self.url = ""
        self.api_key = ""
        self.assistant_ids: list[str] = []

    def __enter__(self) -> Simulator:
        spec = self.spec
        cmd = [
            sys.executable, "-m", "simulator", "--port", "0",
            "--seed", str(spec.seed), "--calls-per-day", str(spec.calls_per_day),
            "--history-days", str(spec.history_days), "--assistants", str(spec.assistants),
            "--latency-ms", str(spec.latency_ms),
        ]  # fmt: skip
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=REPO,
            env=child_env(), start_new_session=True,
        )  # fmt: skip
        threading.Thread(target=self._drain, daemon=True, name="sim-stdout").start()
        deadline = time.monotonic() + self._timeout
        try:
            exports = read_exports(self._lines_until(deadline))
        except queue.Empty:
            self.__exit__()
            raise RuntimeError("the simulator did not start within the deadline") from None
        if exports is None:
            raise RuntimeError(f"the simulator exited at start-up: {self._stderr()}")
        self.url = exports["CALL_LOGS_API_URL"]
        self.api_key = exports["CALL_LOGS_API_KEY"]
        self.assistant_ids = exports["CALL_LOGS_ASSISTANT_IDS"].split(",")
        return self

    def _lines_until(self, deadline: float) -> Iterator[str]:
        """The simulator's output lines; ``queue.Empty`` once ``deadline`` passes."""
        while (line := self._lines.get(timeout=max(0.01, deadline - time.monotonic()))) is not None:
            yield line

    def _drain(self) -> None:
        proc = self._proc
        if proc is None or proc.stdout is None:
            return
        for line in proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _stderr(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:]

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()
            self._proc = None
        self._log.close()

    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        """The ``CALL_LOGS_*`` environment of a sync against this simulator."""
        return {
            "CALL_LOGS_API_URL": self.url,
            "CALL_LOGS_API_KEY": self.api_key,
            "CALL_LOGS_ASSISTANT_IDS": ",".join(self.assistant_ids),
            "CALL_LOGS_DATA_DIR": str(data_dir),
            **extra,
        }

    def call_log_requests(self) -> int:
        """How many call-log requests the simulator has answered so far (``/_sim/stats``)."""
        with httpx.Client(base_url=self.url, timeout=10) as client:
            response = client.get("/_sim/stats")
            response.raise_for_status()
            return int(response.json()["call_log_requests"])

    def truth(self, start_day: date, end_day: date, threads: int = 4) -> Truth:
        """What the API holds for days ``[start, end)``, from ``/_sim/truth`` per assistant-day."""

        def one(client: httpx.Client, aid: str, day: date) -> tuple[int, int, int]:
            response = client.get(
                f"/_sim/truth/{aid}",
                params={"start": day.isoformat(), "end": (day + timedelta(days=1)).isoformat()},
            )
            response.raise_for_status()
            records: list[Any] = orjson.loads(response.content)
            utterances = sum(
                len(r["transcripts"])
                for r in records
                if isinstance(r, dict) and isinstance(r.get("transcripts"), list)
            )
            size = sum(len(orjson.dumps(r)) for r in records)
            return len(records), utterances, size

        tasks = [(aid, day) for aid in self.assistant_ids for day in days(start_day, end_day)]
        with (
            httpx.Client(base_url=self.url, timeout=120.0) as client,
            ThreadPoolExecutor(threads) as pool,
        ):
            results = list(pool.map(lambda task: one(client, *task), tasks))
        return Truth(
            calls=sum(r[0] for r in results),
            utterances=sum(r[1] for r in results),
            json_bytes=sum(r[2] for r in results),
        )


# --- measured subprocesses -----------------------------------------------------------------------


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The parent's environment without ``CALL_LOGS_*``/``DAGSTER_*`` settings, plus ``extra``."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CALL_LOGS_", "DAGSTER_"))
    }
    base["PYTHONPATH"] = str(REPO)
    return {**base, **(extra or {})}


@dataclass(frozen=True)
class Measured:
    """A finished subprocess: wall time, exit code, peak RSS (bytes), output and its result."""

    seconds: float
    returncode: int
    peak_rss: int
    stdout: str
    stderr: str
    result: dict[str, Any] | None

    def check(self, what: str) -> dict[str, Any]:
        if self.returncode != 0 or self.result is None:
            tail = (self.stderr or self.stdout)[-1500:]
            raise RuntimeError(f"{what} failed (exit {self.returncode}): {tail}")
        return self.result


def _vm_hwm(pid: int) -> int:
    """The peak resident set of ``pid`` since its exec (``VmHWM``), in bytes; 0 when gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _descendants_rss(pid: int) -> int:
    import psutil

    total = 0
    try:
        for child in psutil.Process(pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += int(child.memory_info().rss)
    except psutil.Error:
        return 0
    return total


def run_measured(
    cmd: Sequence[str],
    *,
    env: dict[str, str],
    timeout_s: float,
    cwd: Path | None = None,
    poll_s: float = 0.02,
) -> Measured:
    """Run ``cmd`` to completion (killed after ``timeout_s``), sampling its peak RSS meanwhile.

    The peak is the process's own ``VmHWM`` (the kernel's high-water mark of the exec'd image, so
    the parent's size at fork does not leak in, as it does with ``ru_maxrss``) plus the RSS of any
    descendants at the same sample; a child that reports ``peak_rss`` itself is trusted if higher.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), stdout=out, stderr=err, env=env, cwd=cwd or REPO, start_new_session=True
        )
        peak = 0
        timed_out = False
        deadline = began + timeout_s
        while proc.poll() is None:
            peak = max(peak, _vm_hwm(proc.pid) + _descendants_rss(proc.pid))
            if time.perf_counter() > deadline:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                break
            time.sleep(poll_s)
        seconds = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if timed_out:
        stderr += f"\n[benchmark] killed after the {timeout_s:.0f} s timeout"
    result: dict[str, Any] | None = None
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result = orjson.loads(line.removeprefix(RESULT_PREFIX))
            break
    if result is not None:
        peak = max(peak, int(result.get("peak_rss", 0)))
    return Measured(seconds, proc.returncode or 0, peak, stdout, stderr, result)


def emit_result(result: dict[str, Any]) -> None:
    """A child's result: one line on stdout, read back by :func:`run_measured`."""
    payload = {**result, "peak_rss": _vm_hwm(os.getpid())}
    print(RESULT_PREFIX + orjson.dumps(payload).decode(), flush=True)


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A fresh temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"calllogs-bench-{prefix}-") as name:
        yield Path(name)


def calllogs_command() -> list[str]:
    """``calllogs`` as this venv installed it (``python -m dagster_project.cli`` without it)."""
    script = Path(sys.executable).with_name("calllogs")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dagster_project.cli"]
