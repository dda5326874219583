"""``python -m simulator``: the same command line as ``calllogs simulate``."""

from __future__ import annotations

import argparse
import sys

from simulator.cli import StartFailed, add_arguments, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="Serve the call-logs API simulator on loopback."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return serve(args, help_hint="python -m simulator --help")
    except StartFailed as exc:
        print(f"simulator: error: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
