"""(10) ``calllogs audit`` on a year of history: what the comparison and the repair cost.

The audit promises requests ∝ assistants x months + differing days x log(days). Measured with
plain ``calllogs`` processes against one simulator process (its ``/_sim/stats`` counts the
call-log requests each one made):

1. a year of N assistants is synced into a warehouse (one plain ``calllogs sync``);
2. ``calllogs audit`` on that warehouse: everything matches (the comparison alone);
3. one late call per assistant is written into an old, finished day (``POST /_sim/late``), and
   ``calllogs audit`` finds and re-syncs those days (comparison, narrowing, Dagster runs, recount);
4. ``calllogs audit`` again: everything matches.

``python -m benchmarks.audit [--days D] [--calls-per-day C] [--assistants N]`` prints the
figures; ``make bench`` shows them as rows (10).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from benchmarks.common import SimSpec, Simulator, calllogs_command, child_env, scratch


@dataclass(frozen=True)
class Step:
    requests: int
    seconds: float
    last_line: str


@dataclass(frozen=True)
class AuditCost:
    assistants: int
    history_days: int
    months: int
    build: Step
    matching: Step
    repair: Step
    after: Step


def _calllogs(sim: Simulator, env: dict[str, str], args: list[str], timeout_s: float) -> Step:
    before = sim.call_log_requests()
    began = time.perf_counter()
    result = subprocess.run(
        [*calllogs_command(), *args], env=env, capture_output=True, text=True, timeout=timeout_s,
        check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        raise RuntimeError(f"calllogs {args[0]} failed (exit {result.returncode}): "
                           f"{result.stderr[-1500:]}")  # fmt: skip
    lines = result.stdout.strip().splitlines()
    return Step(sim.call_log_requests() - before, seconds, lines[-1] if lines else "")


def _late_call(sim: Simulator, assistant_id: str, days_ago: int) -> None:
    with httpx.Client(base_url=sim.url, timeout=10) as client:
        client.post(f"/_sim/late/{assistant_id}", params={"days_ago": days_ago}).raise_for_status()


def measure(
    *, assistants: int = 4, days: int = 366, calls_per_day: int = 20, seed: int = 42,
    timeout_s: float = 900.0,
) -> AuditCost:  # fmt: skip
    start = datetime.now(UTC).date() - timedelta(days=days)
    today = datetime.now(UTC).date()
    months = (today.year - start.year) * 12 + today.month - start.month + 1
    spec = SimSpec(seed=seed, calls_per_day=calls_per_day, history_days=days, assistants=assistants)
    with Simulator(spec) as sim, scratch("audit") as work:
        env = child_env(
            {
                **sim.env(work / "data"),
                "CALL_LOGS_ASSISTANT_IDS": ",".join(sim.assistant_ids),
                "CALL_LOGS_START_DATE": start.isoformat(),
            }
        )
        build = _calllogs(sim, env, ["sync"], timeout_s)
        matching = _calllogs(sim, env, ["audit"], timeout_s)
        for number, assistant in enumerate(sim.assistant_ids):
            _late_call(sim, assistant, days_ago=30 + number * (days - 60) // max(1, assistants))
        repair = _calllogs(sim, env, ["audit"], timeout_s)
        after = _calllogs(sim, env, ["audit"], timeout_s)
    return AuditCost(assistants, days, months, build, matching, repair, after)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audit")
    parser.add_argument("--assistants", type=int, default=4)
    parser.add_argument("--days", type=int, default=366)
    parser.add_argument("--calls-per-day", type=int, default=20)
    args = parser.parse_args(argv)
    cost = measure(assistants=args.assistants, days=args.days, calls_per_day=args.calls_per_day)
    print(f"{cost.assistants} assistants, {cost.history_days} days ({cost.months} months)")
    for name in ("build", "matching", "repair", "after"):
        step = getattr(cost, name)
        print(f"  {name:9} {step.requests:6,} requests  {step.seconds:6.1f} s  {step.last_line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
