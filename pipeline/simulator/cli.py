"""``calllogs simulate``: serve the simulator in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterable
from types import FrameType

from pipeline.simulator.config import SimulatorConfig
from pipeline.simulator.faults import FaultSpec, parse_faults
from pipeline.simulator.server import SimulatorServer

_EXPORT = "export "
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
) -> int:
    """Run the simulator on 127.0.0.1:``port`` (0 = any free port); returns 0 when stopped."""
    config = SimulatorConfig(
        seed=seed,
        assistants=assistants,
        calls_per_day=calls_per_day,
        history_days=history_days,
        faults=parse_faults(faults) if faults else FaultSpec(),
        latency_ms=latency_ms,
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
