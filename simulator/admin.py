"""The ``/_sim/`` admin API for out-of-process tests: no auth, no faults, never on platform paths.

| route | does |
|---|---|
| ``GET /_sim/now`` | ``{"now": ISO}`` |
| ``POST /_sim/advance?seconds=S`` | move the clock forward; ``{"now": ISO}`` |
| ``POST /_sim/set_now?when=ISO`` | set the clock; ``{"now": ISO}`` |
| ``GET /_sim/truth/{assistant_id}?start=ISO&end=ISO`` | records now held, started in [start, end) |
| ``POST /_sim/insert/{assistant_id}?started_at=ISO&final=true`` | add one call now; its record |
| ``POST /_sim/late/{assistant_id}?days_ago=N`` | a finished call written now into a day N back |
| ``POST /_sim/phantom/{assistant_id}?started_at=ISO`` | count a call never served; echoes both |
| ``POST /_sim/poison/{assistant_id}?started_at=ISO`` | add a call every page of which is a 500 |
| ``POST /_sim/cure?room_name=R`` | serve a poisoned call again; ``{"cured": bool}`` |
| ``GET /_sim/stats`` | request, fault, insert and phantom counters |
| ``GET /_sim/assistants`` | ``{"assistant_ids": [...active, by index...], "deleted": [...]}`` |
| ``POST /_sim/assistants/add`` | new assistant, listed first, full history; ``{"assistant_id"}`` |
| ``POST /_sim/assistants/delete?assistant_id=ID`` | stop serving it; ``{"deleted": ID}`` |

An unknown assistant id or a bad parameter answers 400; an unknown route 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulator.config import from_ms, to_ms
from simulator.query import parse_instant

if TYPE_CHECKING:
    from simulator.app import SimulatorApp

Arg = Callable[[str], str | None]
# (app, the path after the route name, query parameter lookup) -> JSON result
Handler = Callable[["SimulatorApp", str, Arg], Any]

_FINAL_WORDS = {"true": True, "1": True, "false": False, "0": False, "random": None}


def _require(arg: Arg, name: str) -> str:
    value = arg(name)
    if value is None:
        raise ValueError(f"query parameter {name!r} is required")
    return value


def _now(app: SimulatorApp, rest: str, arg: Arg) -> Any:
    return {"now": app.clock.now().isoformat()}


def _advance(app: SimulatorApp, rest: str, arg: Arg) -> Any:
    app.clock.advance(float(_require(arg, "seconds")))
    return _now(app, rest, arg)


def _set_now(app: SimulatorApp, rest: str, arg: Arg) -> Any:
    app.clock.set_now(parse_instant(_require(arg, "when")))
    return _now(app, rest, arg)


def _stats(app: SimulatorApp, rest: str, arg: Arg) -> Any:
    return app.stats()


def _assistants(app: SimulatorApp, rest: str, arg: Arg) -> Any:
    return {
        "assistant_ids": app.store.assistant_ids,
        "deleted": app.store.deleted_assistant_ids,
    }


def _add_assistant(app: SimulatorApp, rest: str, arg: Arg) -> Any:
    return {"assistant_id": app.store.add_assistant()}


def _delete_assistant(app: SimulatorApp, rest: str, arg: Arg) -> Any:
    assistant_id = _require(arg, "assistant_id")
    app.store.delete_assistant(assistant_id)
    return {"deleted": assistant_id}


def _truth(app: SimulatorApp, assistant_id: str, arg: Arg) -> Any:
    start_raw, end_raw = arg("start"), arg("end")
    start = parse_instant(start_raw) if start_raw else from_ms(app.store.history_start_ms)
    end = parse_instant(end_raw) if end_raw else from_ms(app.clock.now_ms() + 1)
    return app.truth(assistant_id, start, end)


def _insert(app: SimulatorApp, assistant_id: str, arg: Arg) -> Any:
    final_raw = (arg("final") or "true").lower()
    if final_raw not in _FINAL_WORDS:
        raise ValueError("final must be true, false or random")
    started_at = parse_instant(_require(arg, "started_at"))
    return app.insert_call(assistant_id, started_at, final=_FINAL_WORDS[final_raw])


def _late(app: SimulatorApp, assistant_id: str, arg: Arg) -> Any:
    return app.insert_late(assistant_id, int(_require(arg, "days_ago")))


def _phantom(app: SimulatorApp, assistant_id: str, arg: Arg) -> Any:
    started_at = parse_instant(_require(arg, "started_at"))
    app.add_phantom(assistant_id, started_at)
    return {"assistant_id": assistant_id, "started_at": from_ms(to_ms(started_at)).isoformat()}


def _poison(app: SimulatorApp, assistant_id: str, arg: Arg) -> Any:
    return app.poison_call(assistant_id, parse_instant(_require(arg, "started_at")))


def _cure(app: SimulatorApp, _: str, arg: Arg) -> Any:
    return {"cured": app.cure(_require(arg, "room_name"))}


# (method, first path segment, the rest of the path or "" for none, or None for "any non-empty")
_ROUTES: dict[tuple[str, str, str | None], Handler] = {
    ("GET", "now", ""): _now,
    ("POST", "advance", ""): _advance,
    ("POST", "set_now", ""): _set_now,
    ("GET", "stats", ""): _stats,
    ("GET", "assistants", ""): _assistants,
    ("POST", "assistants", "add"): _add_assistant,
    ("POST", "assistants", "delete"): _delete_assistant,
    ("GET", "truth", None): _truth,
    ("POST", "insert", None): _insert,
    ("POST", "late", None): _late,
    ("POST", "phantom", None): _phantom,
    ("POST", "poison", None): _poison,
    ("POST", "cure", ""): _cure,
}


def handle_admin(app: SimulatorApp, method: str, route: str, arg: Arg) -> Any:
    """The JSON result of an admin route, or None when no route matches."""
    name, _, rest = route.partition("/")
    handler = _ROUTES.get((method, name, rest)) or (
        _ROUTES.get((method, name, None)) if rest else None
    )
    return None if handler is None else handler(app, rest, arg)
