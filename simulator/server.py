"""``SimulatorServer``: the call-logs API simulator on 127.0.0.1, in a background thread."""

from __future__ import annotations

import threading
from datetime import datetime
from types import TracebackType
from typing import Any

from simulator.app import SimulatorApp
from simulator.config import Clock, SimulatorConfig, from_ms
from simulator.store import CallStore
from simulator.wire import SimServer

HOST = "127.0.0.1"


class SimulatorServer:
    """``with SimulatorServer(cfg) as sim:`` serves the API at ``sim.url`` until the block ends."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config if config is not None else SimulatorConfig()
        self.clock = Clock(self.config.now)
        self.store = CallStore(self.config, self.clock)
        self.app = SimulatorApp(self.config, self.clock, self.store)
        self.app.seed_options()
        self.api_key = self.config.api_key
        self._httpd: SimServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._httpd is not None:
            raise RuntimeError("the simulator is already running")
        self._httpd = SimServer((HOST, self.config.port), self.app)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"call-logs-simulator:{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_open_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # --- the clock ----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Move time forward: calls progress, late calls appear, new calls arrive."""
        self.clock.advance(seconds)

    def set_now(self, when: datetime) -> None:
        self.clock.set_now(when)

    # --- assistants that come and go --------------------------------------------------------

    @property
    def assistant_ids(self) -> list[str]:
        """The assistants served now (deleted ones left out), by index: [0] stays the first one."""
        return self.store.assistant_ids

    @property
    def all_assistant_ids(self) -> list[str]:
        """Every assistant ever created, deleted ones included, by index."""
        return self.store.all_assistant_ids

    def add_assistant(self) -> str:
        """A new assistant, listed first by /assistant/list, with a full history to backfill."""
        return self.store.add_assistant()

    def delete_assistant(self, assistant_id: str) -> None:
        """Unlist it and answer 404 for its call logs; truth() still returns what it held."""
        self.store.delete_assistant(assistant_id)

    # --- looking inside -----------------------------------------------------------------------

    @property
    def history_start(self) -> datetime:
        """Midnight (UTC) of the first day that has calls."""
        return from_ms(self.store.history_start_ms)

    def truth(self, assistant_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Every record the API holds now with started_at in [start, end), as served, by started_at.

        Includes malformed records (even those without room_name). Naive datetimes mean UTC.
        """
        return self.app.truth(assistant_id, start, end)

    def insert_call(
        self, assistant_id: str, started_at: datetime, final: bool | None = True
    ) -> dict[str, Any]:
        """Test hook: add one call with this exact started_at, visible from now on.

        ``final=True`` gives a terminal call, ``False`` one still in progress, ``None`` either.
        Returns the record as it is served now. ``started_at`` is kept to the millisecond.
        """
        return self.app.insert_call(assistant_id, started_at, final)

    def insert_late(self, assistant_id: str, days_ago: int) -> dict[str, Any]:
        """Test hook: a finished call written now into the day ``days_ago`` back (a late insert
        into a finished day, as a delayed webhook or an import writes it). Returns its record."""
        return self.app.insert_late(assistant_id, days_ago)

    def poison_call(self, assistant_id: str, started_at: datetime) -> dict[str, Any]:
        """Test hook: a finished call the platform cannot serve (its record fails the server's own
        model). It is counted in every total and held in truth(), but every page that would hold
        it answers ``500 Internal Server Error: 1 validation error for CallRecord …``, every time.
        Returns its record."""
        return self.app.poison_call(assistant_id, started_at)

    def cure(self, room_name: str) -> bool:
        """Test hook: serve a poisoned record again, as after a fix on the platform."""
        return self.app.cure(room_name)

    @property
    def poisoned_rooms(self) -> frozenset[str]:
        return self.app.poisoned_rooms

    def add_phantom(self, assistant_id: str, started_at: datetime) -> None:
        """Test hook: a call counted in ``pagination.total`` but never on any page.

        Every call-logs query of this assistant whose inclusive range holds ``started_at`` (once it
        is not in the future) reports one more than it serves, so a count check of that window
        can never converge while narrower windows without it do. Not part of truth().
        """
        self.app.add_phantom(assistant_id, started_at)

    def stats(self) -> dict[str, int]:
        """Requests served, faults injected by kind (``faults_<kind>``), inserts and phantoms."""
        return self.app.stats()
