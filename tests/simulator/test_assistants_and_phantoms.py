"""Assistants that come and go, and phantom calls that are counted but never served.

A sync that discovers assistants through ``/assistant/list`` must backfill a new one's old days and
keep a deleted one's history; an extractor that verifies counts must fail only for the windows that
hold a phantom.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulator import SimulatorConfig, SimulatorServer
from simulator.data import assistant_uuid
from tests.simulator_client import FROZEN_NOW, SimClient

from .conftest import Started

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MS = timedelta(milliseconds=1)
NOT_FOUND_BODY = {"success": False, "message": "Assistant not found", "data": {}}
PHANTOM_AT = datetime(2026, 11, 18, 10, 0, 0, 123_000, tzinfo=UTC)


def instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def listed_assistants(api: SimClient) -> list[dict[str, Any]]:
    body = api.http.get("/assistant/list", params={"limit": 100}).json()
    assistants: list[dict[str, Any]] = body["data"]["assistants"]
    assert body["data"]["pagination"]["total"] == len(assistants)
    return assistants


def listed_ids(api: SimClient) -> list[str]:
    return [a["assistant_id"] for a in listed_assistants(api)]


def everything(sim: SimulatorServer, assistant_id: str) -> list[dict[str, Any]]:
    return sim.truth(assistant_id, sim.history_start, sim.now() + MS)


def window(start: datetime, end: datetime, **params: Any) -> dict[str, Any]:
    """Call-logs parameters for the inclusive range [start, end]."""
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), **params}


def total(api: SimClient, assistant_id: str, start: datetime, end: datetime, **kw: Any) -> int:
    count: int = api.logs(assistant_id, **window(start, end, **kw))["pagination"]["total"]
    return count


# --- assistants that come and go ------------------------------------------------------------


def test_added_assistant_is_listed_first_and_serves_its_whole_history(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim(calls_per_day=20, tie_burst_rate=0)
    initial = listed_assistants(api)
    first_truth = everything(server, server.assistant_ids[0])

    new = server.add_assistant()

    assert new == assistant_uuid(server.config.seed, 4)
    listed = listed_assistants(api)
    assert listed[0]["assistant_id"] == new
    assert instant(listed[0]["created_at"]) == FROZEN_NOW
    assert listed[0]["assistant_name"]
    assert listed[1:] == initial  # the others keep their order, ids and created_at
    assert server.assistant_ids == [a["assistant_id"] for a in initial] + [new]
    assert server.all_assistant_ids == server.assistant_ids

    truth = everything(server, new)
    assert truth
    assert min(instant(r["started_at"]) for r in truth) < server.history_start + DAY
    assert api.all_pages(new, limit=100, sort_order="asc") == truth
    assert everything(server, server.assistant_ids[0]) == first_truth


def test_added_assistant_has_the_history_it_would_have_had_from_the_start(
    make_sim: Callable[..., Started],
) -> None:
    later, _ = make_sim(calls_per_day=15)
    from_start, _ = make_sim(calls_per_day=15, assistants=5)
    new = later.add_assistant()
    assert new == from_start.assistant_ids[4]
    assert everything(later, new) == everything(from_start, new)


def test_assistants_added_later_are_listed_newest_first(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim(calls_per_day=5, assistants=2)
    first = server.add_assistant()
    server.advance(60)
    second = server.add_assistant()
    listed = listed_assistants(api)
    assert [a["assistant_id"] for a in listed] == [second, first, *server.all_assistant_ids[:2]]
    assert instant(listed[0]["created_at"]) == FROZEN_NOW + timedelta(seconds=60)
    assert instant(listed[1]["created_at"]) == FROZEN_NOW
    assert server.assistant_ids == [*server.all_assistant_ids[:2], first, second]


def test_deleted_assistant_is_unlisted_answers_404_and_keeps_its_truth(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim(calls_per_day=20, tie_burst_rate=0)
    gone = server.assistant_ids[1]
    truth = everything(server, gone)
    assert api.all_pages(gone, limit=100, sort_order="asc") == truth
    everyone = server.all_assistant_ids

    server.delete_assistant(gone)

    assert gone not in listed_ids(api)
    assert listed_ids(api) == [aid for aid in everyone if aid != gone]
    assert server.assistant_ids == [aid for aid in everyone if aid != gone]
    assert server.all_assistant_ids == everyone
    response = api.logs_response(gone, start_date="2026-11-18", end_date="2026-11-19")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND_BODY
    assert api.logs_response(gone, limit=0).status_code == 422  # validation still comes first
    assert everything(server, gone) == truth
    assert api.logs(server.assistant_ids[1])["logs"]  # the others are still served

    server.delete_assistant(gone)  # deleting twice changes nothing
    assert server.all_assistant_ids == everyone
    with pytest.raises(KeyError):
        server.delete_assistant("0" * 8)


def test_an_added_assistant_can_be_deleted_too(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim(calls_per_day=5)
    new = server.add_assistant()
    truth = everything(server, new)
    server.delete_assistant(new)
    assert new not in listed_ids(api)
    assert api.logs_response(new).json() == NOT_FOUND_BODY
    assert everything(server, new) == truth
    assert server.all_assistant_ids[-1] == new


def test_admin_assistant_routes(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim(calls_per_day=5)
    initial = server.assistant_ids
    assert api.admin("GET", "assistants") == {"assistant_ids": initial, "deleted": []}

    added = api.admin("POST", "assistants/add")
    new = added["assistant_id"]
    assert added == {"assistant_id": server.all_assistant_ids[-1]}
    assert listed_ids(api)[0] == new

    gone = initial[0]
    assert api.admin("POST", "assistants/delete", assistant_id=gone) == {"deleted": gone}
    assert api.admin("GET", "assistants") == {
        "assistant_ids": [*initial[1:], new],
        "deleted": [gone],
    }
    assert api.logs_response(gone).status_code == 404
    assert api.admin("GET", f"truth/{gone}") == everything(server, gone)

    unknown = api.http.post("/_sim/assistants/delete", params={"assistant_id": "0" * 8})
    assert unknown.status_code == 400
    assert api.http.post("/_sim/assistants/delete").status_code == 400
    assert api.http.get("/_sim/assistants/add").status_code == 404
    assert api.http.post("/_sim/assistants/rename").status_code == 404


# --- phantoms -------------------------------------------------------------------------------


def test_phantom_raises_the_total_only_for_ranges_that_hold_it(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim(calls_per_day=150, tie_burst_rate=0)
    aid = server.assistant_ids[0]
    day_start = PHANTOM_AT.replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = day_start + DAY - MS
    truth = server.truth(aid, day_start, day_start + DAY)
    assert len(truth) > 100  # more than one page
    assert total(api, aid, day_start, day_end) == len(truth)

    server.add_phantom(aid, PHANTOM_AT)

    assert server.truth(aid, day_start, day_start + DAY) == truth  # not part of truth()
    for order in ("asc", "desc"):
        first = api.logs(aid, **window(day_start, day_end, limit=100, sort_order=order))
        assert first["pagination"]["total"] == len(truth) + 1
        assert first["pagination"]["total_pages"] == math.ceil((len(truth) + 1) / 100)
        served = api.all_pages(aid, limit=100, **window(day_start, day_end, sort_order=order))
        assert served == (truth if order == "asc" else truth[::-1])  # never on a page

    at_instant = [r for r in truth if instant(r["started_at"]) == PHANTOM_AT]
    exact = api.logs(aid, **window(PHANTOM_AT, PHANTOM_AT))
    assert exact["pagination"]["total"] == len(at_instant) + 1
    assert exact["logs"] == at_instant
    assert (
        total(api, aid, day_start - DAY, day_end + DAY)
        == len(server.truth(aid, day_start - DAY, day_start + 2 * DAY)) + 1
    )
    assert (
        total(api, aid, day_start, FROZEN_NOW + DAY)
        == len(server.truth(aid, day_start, FROZEN_NOW + MS)) + 1
    )

    # narrow windows that miss it, by a millisecond or a day, converge
    for start, end in (
        (day_start, PHANTOM_AT - MS),
        (PHANTOM_AT + MS, day_end),
        (day_start - DAY, day_start - MS),
    ):
        expected = server.truth(aid, start, end + MS)
        assert total(api, aid, start, end) == len(expected)
        assert api.all_pages(aid, limit=100, **window(start, end, sort_order="asc")) == expected
    assert server.stats()["phantoms"] == 1


@pytest.fixture(scope="module")
def sim_with_phantom() -> Iterator[tuple[SimulatorServer, SimClient]]:
    """One phantom on assistant 2 at PHANTOM_AT; read-only after that."""
    config = SimulatorConfig(now=FROZEN_NOW, history_days=4, malformed_rate=0, calls_per_day=150)
    with SimulatorServer(config) as server, SimClient(server.url, server.api_key) as client:
        server.add_phantom(server.assistant_ids[2], PHANTOM_AT)
        yield server, client


@pytest.mark.parametrize("sort_by", ["started_at", "ended_at", "call_status", "no_such_field"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_phantom_is_on_no_page_for_any_sort(
    sim_with_phantom: tuple[SimulatorServer, SimClient], sort_by: str, order: str
) -> None:
    server, api = sim_with_phantom
    aid = server.assistant_ids[2]
    start, end = PHANTOM_AT - 2 * HOUR, PHANTOM_AT + 2 * HOUR
    truth = server.truth(aid, start, end + MS)
    assert 0 < len(truth) < 100
    data = api.logs(aid, **window(start, end, limit=100, sort_by=sort_by, sort_order=order))
    assert data["pagination"] == {
        "total": len(truth) + 1,
        "page": 1,
        "limit": 100,
        "total_pages": 1,
    }
    assert sorted(r["room_name"] for r in data["logs"]) == sorted(r["room_name"] for r in truth)


def test_future_phantom_counts_once_its_instant_has_come(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim(calls_per_day=20)
    aid = server.assistant_ids[3]
    soon = FROZEN_NOW + HOUR
    start, end = FROZEN_NOW - DAY, FROZEN_NOW + DAY
    server.add_phantom(aid, soon)
    assert total(api, aid, start, end) == len(server.truth(aid, start, end))
    server.advance(2 * 3600)
    assert total(api, aid, start, end) == len(server.truth(aid, start, end)) + 1


def test_admin_phantom_route_and_its_errors(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim(calls_per_day=20)
    aid = server.assistant_ids[1]
    day_start = PHANTOM_AT.replace(hour=0, minute=0, second=0, microsecond=0)
    before = total(api, aid, day_start, day_start + DAY - MS)
    answer = api.admin("POST", f"phantom/{aid}", started_at="2026-11-18T10:00:00.123Z")
    assert answer == {"assistant_id": aid, "started_at": PHANTOM_AT.isoformat()}
    api.admin("POST", f"phantom/{aid}", started_at="2026-11-18T10:00:00.123Z")
    assert total(api, aid, day_start, day_start + DAY - MS) == before + 2
    assert api.admin("GET", "stats")["phantoms"] == 2

    assert (
        api.http.post(f"/_sim/phantom/{'0' * 8}", params={"started_at": "2026-11-18"}).status_code
        == 400
    )
    assert api.http.post(f"/_sim/phantom/{aid}").status_code == 400
    too_early = (server.history_start - DAY).isoformat()
    assert (
        api.http.post(f"/_sim/phantom/{aid}", params={"started_at": too_early}).status_code == 400
    )
    assert api.http.post("/_sim/phantom", params={"started_at": "2026-11-18"}).status_code == 404
    with pytest.raises(ValueError, match="history"):
        server.add_phantom(aid, server.history_start - MS)
