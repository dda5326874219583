"""The simulator's one command line, ``calllogs simulate`` and ``python -m simulator`` alike:
serve it in the foreground on 127.0.0.1 until Ctrl-C or SIGTERM.

Every failure to start (a busy port, a bad ``--faults`` spec) is a :class:`StartFailed` with a
one-line message; each front end prints it in its own voice.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
from collections.abc import Iterable
from types import FrameType

PORT_ENV = "CALL_LOGS_SIM_PORT"
DEFAULT_PORT = 8787
_EXPORT = "export "


class StartFailed(Exception):
    """The simulator could not start; the message is one line saying what to do."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both front ends take."""
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port on 127.0.0.1 (default ${PORT_ENV} or {DEFAULT_PORT}; 0 = any free)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--faults", default=None, help="e.g. 429=0.05,500=0.03,drop=0.01")
    parser.add_argument("--calls-per-day", type=int, default=80)
    parser.add_argument("--history-days", type=int, default=30)
    parser.add_argument("--assistants", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument(
        "--late-calls",
        type=int,
        default=0,
        help="calls written into old, finished days, appearing --late-calls-after seconds after "
        "the start (only `calllogs audit` finds them)",
    )
    parser.add_argument("--late-calls-after", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument(
        "--poisoned-calls",
        type=int,
        default=0,
        help="records the platform cannot serve: every page holding one answers 500, every time",
    )


def serve(args: argparse.Namespace, *, help_hint: str) -> int:
    """Serve with the parsed options until stopped; raises StartFailed when it cannot start."""
    port = args.port if args.port is not None else default_port()
    try:
        return serve_forever(
            port=port,
            seed=args.seed,
            faults=args.faults,
            calls_per_day=args.calls_per_day,
            history_days=args.history_days,
            assistants=args.assistants,
            latency_ms=args.latency_ms,
            late_calls=args.late_calls,
            late_calls_after_s=args.late_calls_after,
            poisoned_calls=args.poisoned_calls,
        )
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise StartFailed(
            f"port {port} on 127.0.0.1 is already in use (another simulator or program); pick "
            f"another with --port N, or {PORT_ENV}=N for `make ui` and `calllogs simulate`"
        ) from None
    except ValueError as exc:  # a bad --faults spec or simulator setting
        raise StartFailed(f"{exc}; see `{help_hint}`") from None


def default_port() -> int:
    """``$CALL_LOGS_SIM_PORT``, else DEFAULT_PORT."""
    raw = os.environ.get(PORT_ENV, "").strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise StartFailed(f"{PORT_ENV}={raw!r} is not a port number (0-65535)")
    return int(raw)


EXPORTED: tuple[str, ...] = ("CALL_LOGS_API_URL", "CALL_LOGS_API_KEY", "CALL_LOGS_ASSISTANT_IDS")


def parse_export(line: str) -> tuple[str, str] | None:
    """``(name, value)`` of one ``export NAME=value`` line ``serve_forever`` prints, else None."""
    if not line.startswith(_EXPORT):
        return None
    name, _, value = line.removeprefix(_EXPORT).strip().partition("=")
    return name, value


def read_exports(lines: Iterable[str]) -> dict[str, str] | None:
    """The ``EXPORTED`` values from ``serve_forever``'s output, reading no further than needed.

    None when the lines end before all of them were printed (the simulator did not start).
    """
    exports: dict[str, str] = {}
    for line in lines:
        exported = parse_export(line)
        if exported is not None:
            exports[exported[0]] = exported[1]
        if all(name in exports for name in EXPORTED):
            return exports
    return None


def serve_forever(  # noqa: PLR0917 - the signature `calllogs simulate` is wired to
    port: int,
    seed: int,
    faults: str | None,
    calls_per_day: int,
    history_days: int,
    assistants: int,
    latency_ms: float,
    *,
    late_calls: int = 0,
    late_calls_after_s: float = 60.0,
    poisoned_calls: int = 0,
) -> int:
    """Run the simulator on 127.0.0.1:``port`` (0 = any free port); returns 0 when stopped."""
    # Imported here: parsing the options (`calllogs --help`) must not load the server.
    from simulator.config import SimulatorConfig  # noqa: PLC0415
    from simulator.faults import FaultSpec, parse_faults  # noqa: PLC0415
    from simulator.server import SimulatorServer  # noqa: PLC0415

    config = SimulatorConfig(
        seed=seed,
        assistants=assistants,
        calls_per_day=calls_per_day,
        history_days=history_days,
        faults=parse_faults(faults) if faults else FaultSpec(),
        latency_ms=latency_ms,
        late_calls=late_calls,
        late_calls_after_s=late_calls_after_s,
        poisoned_calls=poisoned_calls,
        port=port,
    )
    stop = threading.Event()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        stop.set()

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if in_main_thread else None
    try:
        with SimulatorServer(config) as sim:
            ids = ",".join(sim.assistant_ids)
            print(f"call-logs simulator listening on {sim.url}")
            print(f"API key: {sim.api_key}")
            print(f"assistants: {ids}")
            print(f"faults: {config.faults}")
            print("paste into your shell:")
            for name, value in zip(EXPORTED, (sim.url, sim.api_key, ids), strict=True):
                print(f"{_EXPORT}{name}={value}")
            sys.stdout.flush()
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    print("simulator stopped", flush=True)
    return 0
