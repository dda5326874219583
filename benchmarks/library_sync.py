"""The pipeline library end to end: ``sync_into_warehouse`` (API → lake → warehouse in one process).

``python -m benchmarks.library_sync --start D --end D`` (with ``CALL_LOGS_*`` set) runs one sync
in a process of its own, so the peak RSS the parent samples is the sync's, and prints the result;
``--two-stage`` runs ``extract_to_lake`` then ``load_lake_into_warehouse`` instead (the Dagster
run's shape: the load reads back the lake after the extraction).
:func:`profile_sync` runs one sync under pyinstrument with the thread pools made inline (the
profiler samples one thread), so every frame of the work shows up in one tree.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

from benchmarks.common import emit_result

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class SyncResult:
    seconds: float
    extract_seconds: float  # the extraction (in one process, the load runs meanwhile)
    load_seconds: float  # what is left after it: the rest of the load
    load_busy_seconds: float  # inside the load's transactions, in all
    requests: int
    retries: int
    reread_windows: int
    calls: int  # warehouse rows after the sync (the whole warehouse, not only these days)
    utterances: int
    rejected: int


def library_sync(
    env: Mapping[str, str],
    start_day: date,
    end_day: date,
    *,
    page_parallelism: int | None = None,
    two_stage: bool = False,
) -> SyncResult:
    """One sync of days ``[start, end)`` with the settings ``env`` gives; timed, counted."""
    from pipeline.client import make_client
    from pipeline.config import Settings
    from pipeline.extract import ExtractOptions
    from pipeline.load import load_lake_into_warehouse
    from pipeline.streamed import sync_into_warehouse
    from pipeline.sync import extract_to_lake

    settings = Settings.from_env(env)
    options = ExtractOptions(page_parallelism=page_parallelism) if page_parallelism else None
    lake = settings.lake()
    warehouse = settings.warehouse()
    began = time.perf_counter()
    with make_client(settings) as client:
        if two_stage:
            report = extract_to_lake(
                settings, start_day, end_day, client=client, lake=lake, options=options
            )
            loaded = load_lake_into_warehouse(lake, warehouse, start_day, end_day)
        else:
            both = sync_into_warehouse(
                settings,
                start_day,
                end_day,
                client=client,
                lake=lake,
                warehouse=warehouse,
                options=options,
            )
            report, loaded = both.extract, both.load
    finished = time.perf_counter()
    counts = warehouse.table_counts()
    return SyncResult(
        seconds=finished - began,
        extract_seconds=report.seconds,
        load_seconds=finished - began - report.seconds,
        load_busy_seconds=loaded.seconds,
        requests=report.requests,
        retries=report.retries,
        reread_windows=report.stats.mismatches,
        calls=counts["call_logs"],
        utterances=counts["transcripts"],
        rejected=counts["rejected_logs"],
    )


# --- profiling ------------------------------------------------------------------------------------


class InlineExecutor(Executor):
    """An executor that runs each task at once in the caller's thread (for a one-thread profile)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            future.set_exception(exc)
        return future

    def map(
        self, fn: Callable[..., R], *iterables: Iterable[Any], timeout: float | None = None,
        chunksize: int = 1,
    ) -> Iterator[R]:  # fmt: skip
        return iter([fn(*args) for args in zip(*iterables, strict=False)])


@dataclass(frozen=True)
class FrameStat:
    function: str
    where: str
    cumulative: float
    self_time: float


def top_frames(root: Any) -> tuple[list[FrameStat], list[FrameStat]]:
    """Functions by cumulative time (each call path counted once) and by self time.

    Synthetic frames (pyinstrument's ``[self]``), the interpreter's entry frames and the
    benchmark harness are left out: they carry the whole run and say nothing about it.
    """
    cumulative: dict[tuple[str, str], float] = {}
    self_time: dict[tuple[str, str], float] = {}
    harness = ("benchmarks/", "<frozen runpy>", "<thread>", "pyinstrument")

    def walk(frame: Any, active: frozenset[tuple[str, str]]) -> None:
        name = str(frame.function)
        key = (name, f"{frame.file_path_short}:{frame.line_no}")
        counted = not name.startswith("[") and not any(h in key[1] for h in harness)
        if counted:
            self_time[key] = self_time.get(key, 0.0) + float(frame.total_self_time)
            if key not in active:
                cumulative[key] = cumulative.get(key, 0.0) + float(frame.time)
        for child in frame.children:
            walk(child, active | {key})

    walk(root, frozenset())

    def ranked(source: dict[tuple[str, str], float]) -> list[FrameStat]:
        order = sorted(source, key=lambda key: source[key], reverse=True)
        return [
            FrameStat(name, where, cumulative.get((name, where), 0.0), self_time[(name, where)])
            for name, where in order[:10]
        ]

    return ranked(cumulative), ranked(self_time)


def _all_self(root: Any) -> list[FrameStat]:
    """Every frame's self time, flattened (for totals of one built-in such as ``fsync``)."""
    found: list[FrameStat] = []
    stack = [root]
    while stack:
        frame = stack.pop()
        found.append(FrameStat(str(frame.function), "", 0.0, float(frame.total_self_time)))
        stack.extend(frame.children)
    return found


def _line(first: float, second: float, stat: FrameStat) -> str:
    return f"  {first:7.2f}  [{second:6.2f}]  {stat.function}  {stat.where}"


def profile_sync(env: Mapping[str, str], start_day: date, end_day: date, out: Path) -> str:
    """Profile one sync (thread pools inline) into ``out``; returns the top-10 summary text."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001, async_mode="disabled")
    with mock.patch("pipeline.sync.ThreadPoolExecutor", InlineExecutor):
        profiler.start()
        # Two stages: the loader thread of one process would be outside the sampled thread.
        result = library_sync(env, start_day, end_day, two_stage=True)
        session = profiler.stop()
    root = session.root_frame(trim_stem=False)
    by_total, by_self = top_frames(root) if root is not None else ([], [])
    lines = [
        f"one library sync in two stages, thread pools inline (serial): {result.seconds:.2f} s "
        f"(extract {result.extract_seconds:.2f} s, load {result.load_seconds:.2f} s), "
        f"{result.requests} requests, {result.calls:,} calls",
        "",
        "top 10 frames by cumulative time (s; self time in brackets):",
    ]
    lines += [_line(s.cumulative, s.self_time, s) for s in by_total]
    lines += ["", "top 10 frames by self time (s; cumulative in brackets):"]
    lines += [_line(s.self_time, s.cumulative, s) for s in by_self]
    waits = (
        {
            name: sum(stat.self_time for stat in _all_self(root) if stat.function == name)
            for name in ("fsync", "socket.recv", "socket.send", "sleep")
        }
        if root is not None
        else {}
    )
    lines += [
        "",
        "waiting (overlaps with other work under the real thread pools): "
        + ", ".join(f"{name} {value:.2f} s" for name, value in waits.items()),
    ]
    summary = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    flat = profiler.output_text(unicode=True, color=False, flat=True, flat_time="self")
    out.write_text(
        f"{summary}\n\n== call tree ==\n{text}\n== flat, by self time ==\n{flat}\n",
        encoding="utf-8",
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--page-parallelism", type=int, default=None)
    parser.add_argument("--two-stage", action="store_true", help="through the lake, as Dagster")
    args = parser.parse_args()
    result = library_sync(
        dict(os.environ),
        args.start,
        args.end,
        page_parallelism=args.page_parallelism,
        two_stage=args.two_stage,
    )
    emit_result(asdict(result))


if __name__ == "__main__":
    main()
