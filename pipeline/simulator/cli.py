"""``calllogs simulate``: serve the simulator in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from pipeline.simulator.config import SimulatorConfig
from pipeline.simulator.faults import FaultSpec, parse_faults
from pipeline.simulator.server import SimulatorServer

_EXPORT = "export "


def parse_export(line: str) -> tuple[str, str] | None:
    """``(name, value)`` of one ``export NAME=value`` line ``serve_forever`` prints, else None."""
    if not line.startswith(_EXPORT):
        return None
    name, _, value = line.removeprefix(_EXPORT).strip().partition("=")
    return name, value


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
            print(f"export CALL_LOGS_API_URL={sim.url}")
            print(f"export CALL_LOGS_API_KEY={sim.api_key}")
            print(f"export CALL_LOGS_ASSISTANT_IDS={ids}")
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
