"""The bundled call-logs API simulator: deterministic data, real HTTP, injectable faults.

Start one with ``with SimulatorServer(SimulatorConfig(now=...)) as sim:`` and call
``GET {sim.url}/assistant/call-logs/{sim.assistant_ids[0]}`` with ``Bearer {sim.api_key}``;
``sim.truth(...)`` tells what the API holds, ``sim.advance(...)`` moves the frozen clock.

The names below load on first use, so a command line that only parses the simulator's options
(``calllogs --help``) does not pay for the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.config import SimulatorConfig
    from simulator.faults import FAULT_KINDS, FaultSpec, parse_faults
    from simulator.server import SimulatorServer

__all__ = ["FAULT_KINDS", "FaultSpec", "SimulatorConfig", "SimulatorServer", "parse_faults"]

_HOMES = {
    "FAULT_KINDS": "simulator.faults",
    "FaultSpec": "simulator.faults",
    "parse_faults": "simulator.faults",
    "SimulatorConfig": "simulator.config",
    "SimulatorServer": "simulator.server",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
