"""`python -m pipeline.simulator [--port P] [--seed S] [--faults SPEC]`: serve the simulator."""

from __future__ import annotations

import argparse
import sys

from pipeline.simulator.cli import serve_forever


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.simulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--faults", default=None, help="e.g. 429=0.05,500=0.03,drop=0.01")
    parser.add_argument("--calls-per-day", type=int, default=80)
    parser.add_argument("--history-days", type=int, default=30)
    parser.add_argument("--assistants", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:
        return serve_forever(
            args.port,
            args.seed,
            args.faults,
            args.calls_per_day,
            args.history_days,
            args.assistants,
            args.latency_ms,
        )
    except ValueError as exc:  # a bad --faults spec
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
