"""Each measurement as a function: N runs in fresh processes and directories, results checked.

Times of the floor and the library are taken inside the child (the work, not the interpreter's
start); the CLI and the peer are timed from the outside, as a user waits for them. Peak RSS is
always the child's own (see :func:`benchmarks.common.run_measured`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Measured,
    Simulator,
    calllogs_command,
    child_env,
    median,
    run_measured,
    scratch,
)


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def args(self) -> list[str]:
        return ["--start", self.start.isoformat(), "--end", self.end.isoformat()]


@dataclass(frozen=True)
class Runs:
    """Several measured runs of one thing, with the medians the table shows."""

    what: str
    measured: tuple[Measured, ...]

    def results(self) -> list[dict[str, Any]]:
        return [m.check(self.what) for m in self.measured]

    def median(self, key: str) -> float:
        return median([float(r[key]) for r in self.results()])

    @property
    def wall(self) -> float:
        return median([m.seconds for m in self.measured])

    @property
    def peak_rss(self) -> float:
        return median([float(m.peak_rss) for m in self.measured])

    @property
    def last(self) -> dict[str, Any]:
        return self.results()[-1]


def _repeat(what: str, runs: int, one: Callable[[], Measured]) -> Runs:
    measured: list[Measured] = []
    for number in range(1, runs + 1):
        began = time.perf_counter()
        result = one()
        result.check(what)
        print(f"    {what} run {number}/{runs}: {time.perf_counter() - began:.1f} s", flush=True)
        measured.append(result)
    return Runs(what, tuple(measured))


def _python(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def floor(sim: Simulator, window: Window, runs: int, *, timeout_s: float = 300.0) -> Runs:
    """(1) fetch + parse every page, 4 threads, in a process of its own."""

    def one() -> Measured:
        with scratch("floor") as work:
            return run_measured(
                _python("benchmarks.floor", *window.args()),
                env=child_env(sim.env(work)),
                timeout_s=timeout_s,
            )

    return _repeat("floor", runs, one)


def library(
    sim: Simulator,
    window: Window,
    runs: int,
    *,
    data_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    page_parallelism: int | None = None,
    two_stage: bool = False,
    timeout_s: float = 600.0,
    what: str = "library sync",
) -> Runs:
    """(2) ``sync_into_warehouse`` in a child (``two_stage``: extract, then load from the lake).

    A fresh directory unless ``data_dir`` is given.
    """
    args = list(window.args())
    if page_parallelism is not None:
        args += ["--page-parallelism", str(page_parallelism)]
    if two_stage:
        args.append("--two-stage")

    def into(directory: Path) -> Measured:
        return run_measured(
            _python("benchmarks.library_sync", *args),
            env=child_env(sim.env(directory, **(extra_env or {}))),
            timeout_s=timeout_s,
        )

    def one() -> Measured:
        if data_dir is not None:
            return into(data_dir)
        with scratch("library") as work:
            return into(work)

    return _repeat(what, runs, one)


def cli(sim: Simulator, window: Window, runs: int, *, timeout_s: float = 600.0) -> Runs:
    """(3) ``calllogs sync --start --end`` as a whole process, fresh DAGSTER_HOME and data dir."""
    command = calllogs_command()

    def one() -> Measured:
        with scratch("cli") as work:
            data = work / "data"
            env = child_env({**sim.env(data), "DAGSTER_HOME": str(work / "dagster_home")})
            command_line = [*command, "sync", *window.args()]
            measured = run_measured(command_line, env=env, timeout_s=timeout_s)
            if measured.returncode == 0:
                measured = _with_counts(measured, data / "warehouse.duckdb", work / "dagster_home")
            return measured

    return _repeat("calllogs sync", runs, one)


def import_floor(runs: int, *, timeout_s: float = 120.0) -> Runs:
    """The bare imports every ``calllogs`` process needs, as a whole process (the tick's floor)."""
    code = "import dagster, duckdb, pyarrow, httpx"

    def one() -> Measured:
        measured = run_measured([sys.executable, "-c", code], env=child_env(), timeout_s=timeout_s)
        result = {"seconds": measured.seconds}
        return Measured(measured.seconds, measured.returncode, measured.peak_rss, "", "", result)

    return _repeat("import floor", runs, one)


def tick(sim: Simulator, runs: int, start: date, *, timeout_s: float = 600.0) -> Runs:
    """A scheduled tick: plain ``calllogs sync`` on a warm instance whose history is synced.

    One untimed plain sync builds the warehouse and the instance (history from ``start``, a few
    days); each timed run is the next tick: the lookback again, as the schedule runs it.
    """
    command = calllogs_command()
    with scratch("tick") as work:
        data = work / "data"
        env = child_env(
            {
                **sim.env(data, CALL_LOGS_START_DATE=start.isoformat()),
                "DAGSTER_HOME": str(work / "dagster_home"),
            }
        )
        first = run_measured([*command, "sync"], env=env, timeout_s=timeout_s)
        if first.returncode != 0:
            return Runs("calllogs sync (tick)", (first,))

        def one() -> Measured:
            measured = run_measured([*command, "sync"], env=env, timeout_s=timeout_s)
            if measured.returncode == 0:
                measured = _with_counts(measured, data / "warehouse.duckdb", work / "dagster_home")
            return measured

        return _repeat("calllogs sync (tick)", runs, one)


def dagster_events(home: Path) -> int:
    """Events the newest run wrote to its run shard (Dagster's SQLite event log)."""
    shards = [path for path in (home / "history" / "runs").glob("*.db") if path.stem != "index"]
    if not shards:
        return 0
    newest = max(shards, key=lambda path: path.stat().st_mtime)
    with contextlib.closing(sqlite3.connect(newest)) as con:
        found = con.execute("SELECT count(*) FROM event_logs").fetchone()
    return int(found[0]) if found else 0


def _with_counts(measured: Measured, warehouse_path: Path, home: Path) -> Measured:
    from pipeline.warehouse import Warehouse

    counts = Warehouse(warehouse_path).table_counts()
    result = {
        "seconds": measured.seconds,
        "calls": counts["call_logs"],
        "utterances": counts["transcripts"],
        "rejected": counts["rejected_logs"],
        "dagster_events": dagster_events(home),
    }
    return Measured(
        measured.seconds, measured.returncode, measured.peak_rss, measured.stdout,
        measured.stderr, result,
    )  # fmt: skip


def peer(sim: Simulator, window: Window, runs: int, *, timeout_s: float = 900.0) -> Runs:
    """(8) the dlt ``rest_api`` pipeline into DuckDB, a whole process per run."""
    from benchmarks.peer_dlt import peer_env

    def one() -> Measured:
        with scratch("peer") as work:
            env = child_env({**sim.env(work), **peer_env(work)})
            return run_measured(
                _python("benchmarks.peer_dlt", *window.args(), "--workdir", str(work)),
                env=env,
                timeout_s=timeout_s,
                cwd=work,
            )

    return _repeat("dlt peer", runs, one)


# --- in-process throughputs (7) ------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    seconds: float
    calls: int
    utterances: int
    pieces_seconds: float = 0.0  # the same calls normalised in extractor-sized pieces


def normaliser(calls: int, runs: int) -> Throughput:
    """``normalize_records`` via ``benchmarks.normalize_throughput.measure`` (median of runs)."""
    from benchmarks.normalize_throughput import measure

    result = measure(calls, max(runs, 3))
    return Throughput(
        result.median_seconds, result.calls, result.utterances, result.pieces_median_seconds
    )


def simulator_service(sim: Simulator, runs: int, threads: int = 4) -> Throughput:
    """Calls/s the simulator serves (``benchmarks.simulator_throughput``'s stdlib client)."""
    from benchmarks.simulator_throughput import page_through, stdlib_fetcher

    def one_pass() -> tuple[float, int]:
        def one(aid: str) -> tuple[int, int, int]:
            return page_through(lambda: stdlib_fetcher(sim.url, sim.api_key), aid, 100, False)

        began = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(one, sim.assistant_ids))
        return time.perf_counter() - began, sum(r[0] for r in results)

    one_pass()  # renders whatever the other passes did not touch (today's calls)
    timings = [one_pass() for _ in range(runs)]
    return Throughput(median([t[0] for t in timings]), timings[0][1], 0)


def medians(values: Sequence[Runs], key: str) -> list[float]:
    return [run.median(key) for run in values]
