"""The ``/_sim/`` admin API for out-of-process tests: no auth, no faults, never on platform paths.

| route | does |
|---|---|
| ``GET /_sim/now`` | ``{"now": ISO}`` |
| ``POST /_sim/advance?seconds=S`` | move the clock forward; ``{"now": ISO}`` |
| ``POST /_sim/set_now?when=ISO`` | set the clock; ``{"now": ISO}`` |
| ``GET /_sim/truth/{assistant_id}?start=ISO&end=ISO`` | records now held, started in [start, end) |
| ``POST /_sim/insert/{assistant_id}?started_at=ISO&final=true`` | add one call now; its record |
| ``GET /_sim/stats`` | request, fault and insert counters |
| ``GET /_sim/assistants`` | ``{"assistant_ids": [...]}`` |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pipeline.simulator.config import from_ms
from pipeline.simulator.query import parse_instant

if TYPE_CHECKING:
    from pipeline.simulator.app import SimulatorApp

_FINAL_WORDS = {"true": True, "1": True, "false": False, "0": False, "random": None}


def _require(arg: Callable[[str], str | None], name: str) -> str:
    value = arg(name)
    if value is None:
        raise ValueError(f"query parameter {name!r} is required")
    return value


def handle_admin(  # noqa: PLR0911 - one return per route reads best
    app: SimulatorApp, method: str, route: str, arg: Callable[[str], str | None]
) -> Any:
    """The JSON result of an admin route, or None when no route matches."""
    name, _, rest = route.partition("/")
    if method == "GET" and name == "now" and not rest:
        return {"now": app.clock.now().isoformat()}
    if method == "POST" and name == "advance" and not rest:
        app.clock.advance(float(_require(arg, "seconds")))
        return {"now": app.clock.now().isoformat()}
    if method == "POST" and name == "set_now" and not rest:
        app.clock.set_now(parse_instant(_require(arg, "when")))
        return {"now": app.clock.now().isoformat()}
    if method == "GET" and name == "stats" and not rest:
        return app.stats()
    if method == "GET" and name == "assistants" and not rest:
        return {"assistant_ids": list(app.store.assistant_ids)}
    if method == "GET" and name == "truth" and rest:
        start_raw, end_raw = arg("start"), arg("end")
        start = parse_instant(start_raw) if start_raw else from_ms(app.store.history_start_ms)
        end = parse_instant(end_raw) if end_raw else from_ms(app.clock.now_ms() + 1)
        return app.truth(rest, start, end)
    if method == "POST" and name == "insert" and rest:
        final_raw = (arg("final") or "true").lower()
        if final_raw not in _FINAL_WORDS:
            raise ValueError("final must be true, false or random")
        started_at = parse_instant(_require(arg, "started_at"))
        return app.insert_call(rest, started_at, final=_FINAL_WORDS[final_raw])
    return None
