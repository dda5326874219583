"""Fixtures: simulators on loopback with the clock frozen at 2026-11-20 12:00 UTC."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from simulator import SimulatorConfig, SimulatorServer
from tests.simulator_client import FROZEN_NOW, SimClient

Started = tuple[SimulatorServer, SimClient]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    """A shared, read-only simulator (tests that move its clock or insert calls make their own)."""
    with SimulatorServer(SimulatorConfig(now=FROZEN_NOW, history_days=10)) as server:
        yield server


@pytest.fixture(scope="module")
def api(sim: SimulatorServer) -> Iterator[SimClient]:
    with SimClient(sim.url, sim.api_key) as client:
        yield client


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Started]]:
    """Start a private simulator: ``server, client = make_sim(tie_burst_rate=0, ...)``."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> Started:
            settings: dict[str, Any] = {"now": FROZEN_NOW, "history_days": 5, **overrides}
            server = stack.enter_context(SimulatorServer(SimulatorConfig(**settings)))
            client = stack.enter_context(SimClient(server.url, server.api_key))
            return server, client

        yield start
