"""(9) The hourly tick right after a new assistant appears: what it costs, in requests and time.

Per-assistant planning promises that the tick reads the new assistant's whole history plus the
others' lookback, and not everyone's history. Measured with plain ``calllogs sync`` processes
against one simulator process (its ``/_sim/stats`` counts the call-log requests each one made):

1. the warehouse of N-1 assistants is built (their whole history);
2. the tick: the N-th assistant is added to ``CALL_LOGS_ASSISTANT_IDS``, one plain sync;
3. references, each into a fresh data dir or the same warehouse: the new assistant's history
   alone, the others' lookback alone (the next tick), everyone's history from scratch.

``python -m benchmarks.new_assistant [--days D] [--calls-per-day C] [--assistants N]`` prints the
figures; ``make bench`` shows them as rows (9).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import SimSpec, Simulator, calllogs_command, child_env, scratch


@dataclass(frozen=True)
class Sync:
    requests: int
    seconds: float


@dataclass(frozen=True)
class TickCost:
    assistants: int
    history_days: int
    build: Sync
    tick: Sync
    new_alone: Sync
    others_lookback: Sync
    everyone: Sync

    @property
    def expected(self) -> int:
        return self.new_alone.requests + self.others_lookback.requests


def _sync(sim: Simulator, data: Path, ids: list[str], start: str, timeout_s: float) -> Sync:
    import subprocess

    env = child_env(
        {**sim.env(data), "CALL_LOGS_ASSISTANT_IDS": ",".join(ids), "CALL_LOGS_START_DATE": start}
    )
    before = sim.call_log_requests()
    began = time.perf_counter()
    result = subprocess.run(
        [*calllogs_command(), "sync"], env=env, capture_output=True, text=True, timeout=timeout_s,
        check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        raise RuntimeError(
            f"calllogs sync failed (exit {result.returncode}): {result.stderr[-1500:]}"
        )
    return Sync(requests=sim.call_log_requests() - before, seconds=seconds)


def measure(
    *, assistants: int = 5, days: int = 366, calls_per_day: int = 20, seed: int = 42,
    timeout_s: float = 900.0,
) -> TickCost:  # fmt: skip
    start = (datetime.now(UTC).date() - timedelta(days=days)).isoformat()
    spec = SimSpec(seed=seed, calls_per_day=calls_per_day, history_days=days, assistants=assistants)
    with Simulator(spec) as sim:
        old, new = sim.assistant_ids[:-1], sim.assistant_ids[-1]
        with scratch("tick") as work:
            data = work / "data"
            build = _sync(sim, data, old, start, timeout_s)
            tick = _sync(sim, data, [*old, new], start, timeout_s)
            lookback = _sync(sim, data, old, start, timeout_s)
        with scratch("new-alone") as work:
            alone = _sync(sim, work / "data", [new], start, timeout_s)
        with scratch("everyone") as work:
            everyone = _sync(sim, work / "data", [*old, new], start, timeout_s)
    return TickCost(assistants, days, build, tick, alone, lookback, everyone)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.new_assistant")
    parser.add_argument("--assistants", type=int, default=5)
    parser.add_argument("--days", type=int, default=366)
    parser.add_argument("--calls-per-day", type=int, default=20)
    args = parser.parse_args(argv)
    cost = measure(assistants=args.assistants, days=args.days, calls_per_day=args.calls_per_day)
    print(f"{cost.assistants} assistants, {cost.history_days} days of history")
    for name in ("build", "tick", "new_alone", "others_lookback", "everyone"):
        sync = getattr(cost, name)
        print(f"  {name:16} {sync.requests:6,} requests  {sync.seconds:6.1f} s")
    print(f"  tick vs new history + others' lookback: {cost.tick.requests} vs {cost.expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
