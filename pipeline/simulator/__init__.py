"""The bundled call-logs API simulator: deterministic data, real HTTP, injectable faults.

Start one with ``with SimulatorServer(SimulatorConfig(now=...)) as sim:`` and call
``GET {sim.url}/assistant/call-logs/{sim.assistant_ids[0]}`` with ``Bearer {sim.api_key}``;
``sim.truth(...)`` tells what the API holds, ``sim.advance(...)`` moves the frozen clock.
"""

from pipeline.simulator.config import SimulatorConfig
from pipeline.simulator.faults import FAULT_KINDS, FaultSpec, parse_faults
from pipeline.simulator.server import SimulatorServer

__all__ = ["FAULT_KINDS", "FaultSpec", "SimulatorConfig", "SimulatorServer", "parse_faults"]
