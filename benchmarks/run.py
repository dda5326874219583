"""The benchmark suite (``python -m benchmarks.run``; ``make bench``): medians vs the raw floor.

Every figure is the median of ``--runs`` runs (default 3; ``--quick`` is a smaller smoke version
with one run) on the bundled simulator with a fixed seed, served by a process of its own and warmed
once before anything is timed, and is shown as a ratio to the floor measured in the same run. The
table goes to stdout and, as markdown, to ``bench-results/latest.md``; ``--profile`` also writes a
pyinstrument profile of one library sync to ``bench-results/profile.txt``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from benchmarks import report as fmt
from benchmarks import scenarios
from benchmarks.common import MB, RESULTS, SimSpec, Simulator, Truth, settled_end_day
from benchmarks.floor import fetch_floor
from benchmarks.report import Report, Row
from benchmarks.scenarios import Runs, Window

RSS_TARGET = 300 * MB


@dataclass(frozen=True)
class Plan:
    runs: int
    seed: int
    assistants: int
    days: int
    calls_per_day: int
    big_factor: int
    latency_ms: float
    latency_days: int
    year_days: int
    year_calls_per_day: int
    incremental_days: int
    tick_history_days: int
    normaliser_calls: int
    peer: bool
    profile: bool


FULL = Plan(
    runs=3, seed=42, assistants=4, days=21, calls_per_day=400, big_factor=10, latency_ms=100.0,
    latency_days=2, year_days=366, year_calls_per_day=20, incremental_days=2,
    tick_history_days=120, normaliser_calls=100_000, peer=True, profile=False,
)  # fmt: skip
QUICK = replace(
    FULL,
    runs=1,
    days=7,
    calls_per_day=100,
    year_calls_per_day=5,
    normaliser_calls=10_000,
    tick_history_days=30,
)


def _spec(plan: Plan, window: Window, calls_per_day: int, latency_ms: float = 0.0) -> SimSpec:
    """A simulator whose history starts exactly at the window's first day."""
    history = (datetime.now(UTC).date() - window.start).days
    return SimSpec(plan.seed, calls_per_day, history, plan.assistants, latency_ms)


def _warm(sim: Simulator, window: Window) -> float:
    """One untimed pass over the window: the simulator renders and encodes each record once."""
    return fetch_floor(sim.url, sim.api_key, sim.assistant_ids, window.start, window.end).seconds


def _exact(runs: Runs, truth: Truth) -> tuple[str, str]:
    last = runs.last
    calls, rejected = int(last["calls"]), int(last["rejected"])
    ok = all(int(r["calls"]) + int(r["rejected"]) == truth.calls for r in runs.results())
    shown = f"{calls:,} + {rejected:,} = {calls + rejected:,} (truth {truth.calls:,})"
    return shown, "exact" if ok else "**MISMATCH**"


def base_rows(rep: Report, plan: Plan, window: Window) -> dict[str, float]:
    """(1) floor, (2) library, (3) CLI, (4) RSS at 1x, (7) simulator, (8) peer; profile."""
    out: dict[str, float] = {}
    with Simulator(_spec(plan, window, plan.calls_per_day)) as sim:
        cold = _warm(sim, window)
        truth = sim.truth(window.start, window.end)
        rep.notes.append(
            f"workload: {plan.assistants} assistants x {window.days} days "
            f"({window.start}..{window.end}, exclusive) x ~{plan.calls_per_day} calls/day = "
            f"{truth.calls:,} calls, {truth.utterances:,} utterances, "
            f"{truth.json_bytes / 1e6:,.1f} MB JSON (simulator truth, seed {plan.seed}); "
            f"cold first pass {cold:.2f} s (untimed warm-up)"
        )
        flo = scenarios.floor(sim, window, plan.runs)
        f_s, f_rss = flo.median("seconds"), flo.peak_rss
        out["floor_calls_per_s"] = flo.last["calls"] / f_s
        rep.add(
            Row(
                "1",
                f"raw floor: fetch + parse {flo.last['calls']:,} calls in "
                f"{flo.last['pages']:,} pages, 4 httpx threads",
                f"{fmt.seconds(f_s)} ({fmt.rate(flo.last['calls'], f_s, 'calls')})",
                "1.00x",
            )
        )
        rep.add(Row("1", "raw floor: peak RSS", fmt.megabytes(f_rss), "1.00x"))
        lib = scenarios.library(sim, window, plan.runs)
        l_s = lib.median("seconds")
        rep.add(
            Row(
                "2",
                "library: sync_into_warehouse (in process; the load runs while pages are read)",
                fmt.seconds(l_s),
                fmt.ratio(l_s, f_s),
                "≤ 2x floor",
                fmt.verdict(l_s <= 2 * f_s),
            )
        )
        rep.add(
            Row(
                "2",
                f"  extraction / the load after it; requests (floor: {flo.last['pages']:,} pages)",
                f"{fmt.seconds(lib.median('extract_seconds'))} / "
                f"{fmt.seconds(lib.median('load_seconds'))}; {lib.median('requests'):,.0f}",
            )
        )
        two = scenarios.library(sim, window, plan.runs, two_stage=True, what="two-stage sync")
        t_s = two.median("seconds")
        rep.add(
            Row(
                "2",
                "  two stages, extract_to_lake then load_lake_into_warehouse (the Dagster run's "
                "shape); one process / two stages",
                f"{fmt.seconds(t_s)}; {fmt.ratio(l_s, t_s)}",
                fmt.ratio(t_s, f_s),
            )
        )
        rep.add(
            Row(
                "2",
                "  exactness: call_logs + rejected_logs = truth",
                _exact(lib, truth)[0],
                "",
                "= truth",
                _exact(lib, truth)[1],
            )
        )
        cli = scenarios.cli(sim, window, plan.runs)
        c_s = cli.wall
        out["cli_seconds"] = c_s
        rep.add(
            Row(
                "3",
                "`calllogs sync --start --end`: whole process (Dagster run)",
                fmt.seconds(c_s),
                fmt.ratio(c_s, f_s),
            )
        )
        rep.add(
            Row(
                "3",
                "  outside the library: interpreter, imports, Dagster instance and run "
                "bookkeeping ((3) - (2)'s two stages, the run's shape)",
                fmt.seconds(c_s - t_s),
                fmt.ratio(c_s - t_s, f_s),
            )
        )
        rep.add(
            Row(
                "3",
                "  exactness: call_logs + rejected_logs = truth",
                _exact(cli, truth)[0],
                "",
                "= truth",
                _exact(cli, truth)[1],
            )
        )
        rep.add(
            Row(
                "3",
                "  Dagster events written by the run (its SQLite run shard)",
                f"{cli.median('dagster_events'):,.0f}",
            )
        )
        for label, runs in (("library", lib), ("calllogs sync", cli)):
            rep.add(
                Row(
                    "4",
                    f"peak RSS, {label}, {window.days}-day window",
                    fmt.megabytes(runs.peak_rss),
                    fmt.ratio(runs.peak_rss, f_rss),
                    "≤ 300 MB",
                    fmt.verdict(runs.peak_rss <= RSS_TARGET),
                )
            )
        if plan.profile:
            from benchmarks.common import scratch
            from benchmarks.library_sync import profile_sync

            with scratch("profile") as work:
                summary = profile_sync(
                    sim.env(work), window.start, window.end, RESULTS / "profile.txt"
                )
            print(summary, flush=True)
            rep.footnotes.append(
                "Profile of (2) (bench-results/profile.txt):\n\n```\n" + summary + "\n```\n"
            )
        svc = scenarios.simulator_service(sim, plan.runs)
        rep.add(
            Row(
                "7",
                "simulator throughput (stdlib keep-alive client, 4 threads)",
                fmt.rate(svc.calls, svc.seconds, "calls"),
                fmt.ratio(svc.calls / svc.seconds, out["floor_calls_per_s"]),
            )
        )
        if plan.peer:
            peer_rows(rep, plan, sim, window=window, truth=truth, floor_cli=(f_s, f_rss, c_s))
    return out


def peer_rows(
    rep: Report, plan: Plan, sim: Simulator, *, window: Window, truth: Truth,
    floor_cli: tuple[float, float, float],
) -> None:  # fmt: skip
    """(8) the dlt rest_api pipeline on the same workload, and (3)'s target against it."""
    from benchmarks.peer_dlt import DLT_REQUIREMENT, ensure_dlt

    f_s, f_rss, c_s = floor_cli
    problem = ensure_dlt()
    if problem is not None:
        rep.add(Row("8", f"dlt rest_api peer: skipped ({problem})", "—"))
        rep.add(Row("3", "(3) ≥ 10x faster than (8)", "—", "", "≥ 10x", "skipped: no peer"))
        return
    peer = scenarios.peer(sim, window, plan.runs)
    p_s = peer.wall
    distinct = int(peer.last["distinct_calls"])
    rep.add(
        Row(
            "8",
            f"dlt rest_api → DuckDB ({DLT_REQUIREMENT}; merge on room_name): whole process",
            fmt.seconds(p_s),
            fmt.ratio(p_s, f_s),
        )
    )
    rep.add(
        Row(
            "8",
            "dlt peak RSS",
            fmt.megabytes(peer.peak_rss),
            fmt.ratio(peer.peak_rss, f_rss),
            "≤ 300 MB",
            fmt.verdict(peer.peak_rss <= RSS_TARGET),
        )
    )
    rep.add(
        Row(
            "8",
            "dlt distinct calls kept vs truth (lost)",
            f"{distinct:,} of {truth.calls:,} (lost {truth.calls - distinct:,}; "
            f"{int(peer.last['dropped_no_key']):,} had no room_name)",
            "",
            "lost = 0",
            fmt.verdict(distinct == truth.calls),
        )
    )
    rep.add(
        Row(
            "3",
            "(3) speed-up over (8): dlt time / calllogs sync time",
            f"{p_s / c_s:.1f}x ({fmt.seconds(p_s)} / {fmt.seconds(c_s)})",
            "",
            "≥ 10x",
            fmt.verdict(p_s >= 10 * c_s),
        )
    )


def big_rows(rep: Report, plan: Plan, window: Window) -> None:
    """(4) the same window with ``big_factor``x the calls per day: one run each (time-bounded)."""
    cpd = plan.calls_per_day * plan.big_factor
    with Simulator(_spec(plan, window, cpd)) as sim:
        _warm(sim, window)
        truth = sim.truth(window.start, window.end)
        flo = scenarios.floor(sim, window, 1)
        lib = scenarios.library(sim, window, 1, timeout_s=900)
        cli = scenarios.cli(sim, window, 1, timeout_s=900)
    f_s, f_rss = flo.median("seconds"), flo.peak_rss
    tag = f"{plan.big_factor}x workload ({truth.calls:,} calls, one run)"
    rep.add(
        Row(
            "4",
            f"{tag}: floor / library / calllogs sync time",
            f"{fmt.seconds(f_s)} / {fmt.seconds(lib.median('seconds'))} / {fmt.seconds(cli.wall)}",
            f"1.00x / {fmt.ratio(lib.median('seconds'), f_s)} / {fmt.ratio(cli.wall, f_s)}",
        )
    )
    for label, runs in (("library", lib), ("calllogs sync", cli)):
        rep.add(
            Row(
                "4",
                f"peak RSS, {label}, {tag}",
                fmt.megabytes(runs.peak_rss),
                fmt.ratio(runs.peak_rss, f_rss),
                "≤ 300 MB",
                fmt.verdict(runs.peak_rss <= RSS_TARGET),
            )
        )
    rep.add(
        Row(
            "4",
            f"  exactness at {plan.big_factor}x: library / calllogs sync",
            f"{_exact(lib, truth)[0]} / {_exact(cli, truth)[0]}",
            "",
            "= truth",
            "exact"
            if "MISMATCH" not in _exact(lib, truth)[1] + _exact(cli, truth)[1]
            else "**MISMATCH**",
        )
    )


def latency_rows(rep: Report, plan: Plan, end: date) -> None:
    """(5) serial vs default concurrency with added API latency, on a short window."""
    window = Window(end - timedelta(days=plan.latency_days), end)
    with Simulator(_spec(plan, window, plan.calls_per_day, plan.latency_ms)) as sim:
        _warm(sim, window)
        flo = scenarios.floor(sim, window, plan.runs)
        serial = scenarios.library(
            sim,
            window,
            plan.runs,
            page_parallelism=1,
            extra_env={"CALL_LOGS_CONCURRENCY": "1"},
            what="serial sync",
        )
        default = scenarios.library(sim, window, plan.runs, what="concurrent sync")
    f_s = flo.median("seconds")
    s_s, d_s = serial.median("seconds"), default.median("seconds")
    tag = f"{plan.latency_ms:.0f} ms latency, {window.days} days"
    rep.add(
        Row("5", f"{tag}: floor ({flo.last['pages']} pages, 4 threads)", fmt.seconds(f_s), "1.00x")
    )
    rep.add(
        Row(
            "5",
            f"{tag}: library, serial (concurrency 1, page_parallelism 1; "
            f"{serial.median('requests'):.0f} requests)",
            fmt.seconds(s_s),
            fmt.ratio(s_s, f_s),
        )
    )
    rep.add(
        Row(
            "5",
            f"{tag}: library, default concurrency ({default.median('requests'):.0f} requests)",
            fmt.seconds(d_s),
            fmt.ratio(d_s, f_s),
            "≥ 4x faster than serial",
            f"{s_s / d_s:.1f}x — {fmt.verdict(s_s >= 4 * d_s)}",
        )
    )


def incremental_rows(rep: Report, plan: Plan, end: date) -> None:
    """(6) re-sync of the last days into a warehouse holding a year vs into an empty one."""
    from benchmarks.common import scratch

    year = Window(end - timedelta(days=plan.year_days), end)
    recent = Window(end - timedelta(days=plan.incremental_days), end)
    with Simulator(_spec(plan, year, plan.year_calls_per_day)) as sim, scratch("year") as home:
        _warm(sim, year)
        built = scenarios.library(sim, year, 1, data_dir=home, what="year build").last
        flo = scenarios.floor(sim, recent, plan.runs)
        incr = scenarios.library(sim, recent, plan.runs, data_dir=home, what="incremental")
        empty = scenarios.library(sim, recent, plan.runs, what="empty-warehouse sync")
    f_s = flo.median("seconds")
    i_s, e_s = incr.median("seconds"), empty.median("seconds")
    i_req, e_req = incr.median("requests"), empty.median("requests")
    year_req = float(built["requests"])
    pro_rata = year_req * recent.days / year.days
    n = recent.days
    rep.add(
        Row(
            "6",
            f"year built once: {year.days} days x ~{plan.year_calls_per_day} calls/day "
            f"({int(built['calls']) + int(built['rejected']):,} calls)",
            f"{fmt.seconds(float(built['seconds']))}, {year_req:,.0f} requests",
        )
    )
    rep.add(
        Row("6", f"last {n} days: floor ({flo.last['pages']} pages)", fmt.seconds(f_s), "1.00x")
    )
    rep.add(
        Row(
            "6",
            f"re-sync last {n} days into the empty warehouse",
            f"{fmt.seconds(e_s)}, {e_req:,.0f} requests",
            fmt.ratio(e_s, f_s),
        )
    )
    rep.add(
        Row(
            "6",
            f"re-sync last {n} days into the year's warehouse (time)",
            f"{fmt.seconds(i_s)}",
            fmt.ratio(i_s, f_s),
            "≤ 2x empty",
            f"{i_s / e_s:.2f}x — {fmt.verdict(i_s <= 2 * e_s)}",
        )
    )
    # Proportional: what the re-synced days need (as into an empty warehouse, and no more than
    # paging them day by day), whatever the warehouse already holds.
    pages = int(flo.last["pages"])
    ok = i_req <= 1.25 * e_req and i_req <= 2 * pages
    rep.add(
        Row(
            "6",
            f"re-sync last {n} days into the year's warehouse (requests)",
            f"{i_req:,.0f} (empty: {e_req:,.0f}; floor pages: {pages}; whole year: "
            f"{year_req:,.0f}, {pro_rata:,.1f} pro rata)",
            "",
            "∝ re-synced days",
            fmt.verdict(ok),
        )
    )


TICK_TARGET = 2.5  # a scheduled tick within 2.5x the bare imports (issue 17)


def tick_rows(rep: Report, plan: Plan) -> None:
    """(11) one scheduled tick (plain ``calllogs sync``, warm instance) against the import floor."""
    end = settled_end_day()
    window = Window(end - timedelta(days=3), end)
    with Simulator(_spec(plan, window, plan.calls_per_day)) as sim:
        floor = scenarios.import_floor(plan.runs)
        ticks = scenarios.tick(sim, plan.runs, window.start)
    i_s, t_s = floor.wall, ticks.wall
    rep.add(
        Row(
            "11",
            '`python -c "import dagster, duckdb, pyarrow, httpx"`: the import floor',
            fmt.seconds(i_s),
            "1.00x",
        )
    )
    rep.add(
        Row(
            "11",
            f"scheduled tick: plain `calllogs sync`, warm instance, {plan.assistants} "
            f"assistants x {window.days} days of history",
            fmt.seconds(t_s),
            fmt.ratio(t_s, i_s),
            f"≤ {TICK_TARGET}x imports",
            fmt.verdict(t_s <= TICK_TARGET * i_s),
        )
    )
    rep.add(
        Row("11", "  Dagster events written by a tick", f"{ticks.median('dagster_events'):,.0f}")
    )


def new_assistant_rows(rep: Report, plan: Plan) -> None:
    """(9) the hourly tick right after a new assistant appears, against its parts."""
    from benchmarks.new_assistant import measure

    cost = measure(
        assistants=plan.assistants + 1, days=plan.tick_history_days,
        calls_per_day=plan.year_calls_per_day, seed=plan.seed,
    )  # fmt: skip
    n, days = cost.assistants - 1, cost.history_days
    rep.add(
        Row(
            "9",
            f"build: {n} assistants x {days} days of history",
            f"{cost.build.requests:,} requests, {fmt.seconds(cost.build.seconds)}",
        )
    )
    rep.add(
        Row(
            "9",
            "the new assistant's history alone (fresh warehouse)",
            f"{cost.new_alone.requests:,} requests, {fmt.seconds(cost.new_alone.seconds)}",
        )
    )
    rep.add(
        Row(
            "9",
            f"the other {n} assistants' lookback alone (the next tick)",
            f"{cost.others_lookback.requests:,} requests, "
            f"{fmt.seconds(cost.others_lookback.seconds)}",
        )
    )
    rep.add(
        Row(
            "9",
            f"everyone's history from scratch ({n + 1} assistants)",
            f"{cost.everyone.requests:,} requests, {fmt.seconds(cost.everyone.seconds)}",
        )
    )
    ok = cost.tick.requests <= cost.expected * 1.1 + 2
    rep.add(
        Row(
            "9",
            "hourly tick right after the new assistant appears",
            f"{cost.tick.requests:,} requests, {fmt.seconds(cost.tick.seconds)}",
            "",
            "∝ new history + others' lookback",
            f"{cost.tick.requests} vs {cost.expected} "
            f"({cost.tick.requests / max(1, cost.everyone.requests):.0%} of everyone's) — "
            f"{fmt.verdict(ok)}",
        )
    )


def audit_rows(rep: Report, plan: Plan) -> None:
    """(10) calllogs audit on a year of history: the comparison, and finding + repairing."""
    from benchmarks.audit import measure

    cost = measure(
        assistants=plan.assistants, days=plan.year_days, calls_per_day=plan.year_calls_per_day,
        seed=plan.seed,
    )  # fmt: skip
    n, months = cost.assistants, cost.months
    rep.add(
        Row(
            "10",
            f"`calllogs audit`, {n} assistants x {cost.history_days} days, all match",
            f"{cost.matching.requests:,} requests, {fmt.seconds(cost.matching.seconds)}",
            "",
            "∝ assistants x months",
            f"{cost.matching.requests} vs {n} x {months} — "
            f"{fmt.verdict(cost.matching.requests <= n * months)}",
        )
    )
    rep.add(
        Row(
            "10",
            f"  … after {n} late calls into old days: found, re-synced, recounted",
            f"{cost.repair.requests:,} requests, {fmt.seconds(cost.repair.seconds)}",
            "",
            "+ differing days x log(days)",
            f"{cost.repair.requests - cost.matching.requests} more requests for {n} days",
        )
    )
    rep.add(
        Row(
            "10",
            "  … the next audit",
            f"{cost.after.requests:,} requests, {fmt.seconds(cost.after.seconds)}",
        )
    )


NORMALISER_TARGET_S = 0.5  # per 100k calls: "well under a second" (issue 5), read as half of one


def normaliser_rows(rep: Report, plan: Plan, floor_calls_per_s: float) -> None:
    thr = scenarios.normaliser(plan.normaliser_calls, plan.runs)
    per_100k = thr.seconds * 100_000 / max(1, thr.calls)
    rep.add(
        Row(
            "7",
            f"normaliser, one call ({thr.calls:,} calls, {thr.utterances:,} utterances of "
            "normalize_throughput's generator)",
            f"{per_100k:.2f} s per 100k calls ({fmt.rate(thr.calls, thr.seconds, 'calls')}, "
            f"{fmt.rate(thr.utterances, thr.seconds, 'utterances')})",
            fmt.ratio(thr.calls / thr.seconds, floor_calls_per_s),
            f"≤ {NORMALISER_TARGET_S} s per 100k",
            fmt.verdict(per_100k <= NORMALISER_TARGET_S),
        )
    )
    rep.add(
        Row(
            "7",
            "  the same calls in 1,000-call pieces, as the extractor normalises them",
            f"{thr.pieces_seconds * 100_000 / max(1, thr.calls):.2f} s per 100k calls",
            fmt.ratio(thr.calls / thr.pieces_seconds, floor_calls_per_s),
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="smaller smoke version, 1 run")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile one library sync into bench-results/profile.txt",
    )
    parser.add_argument("--no-peer", action="store_true", help="skip the dlt peer (8)")
    parser.add_argument("--seed", type=int, default=FULL.seed)
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    plan = replace(
        plan,
        seed=args.seed,
        peer=not args.no_peer,
        profile=args.profile,
        runs=args.runs or plan.runs,
    )
    if plan.runs < 1:
        parser.error("--runs must be at least 1")
    began = time.perf_counter()
    end = settled_end_day()
    window = Window(end - timedelta(days=plan.days), end)
    rep = Report(f"calllogs benchmarks{' (quick)' if args.quick else ''}")
    rep.notes += [
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()} ({sys.executable}); medians of {plan.runs} run(s)",
        "simulator: `python -m simulator` in its own process on 127.0.0.1, real clock; "
        "windows end at the last midnight ≥ 7 h ago, so every call in them is visible and final",
        "floor and library times are taken inside their own process (the work, not the "
        "interpreter start); `calllogs sync` and dlt are timed as whole processes; peak RSS is "
        "each process's own VmHWM",
    ]
    print(f"benchmarks: {plan}", flush=True)
    base = base_rows(rep, plan, window)
    normaliser_rows(rep, plan, base["floor_calls_per_s"])
    big_rows(rep, plan, window)
    latency_rows(rep, plan, end)
    incremental_rows(rep, plan, end)
    new_assistant_rows(rep, plan)
    audit_rows(rep, plan)
    tick_rows(rep, plan)
    rep.rows.sort(key=lambda row: int(row.number.split()[0]))  # "10" after "9"
    rep.notes.append(f"suite took {time.perf_counter() - began:.0f} s")
    table = rep.markdown()
    out = RESULTS / "latest.md"
    rep.write(out)
    print("\n" + table, flush=True)
    print(f"written to {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
