"""Query semantics over a real socket: bounds, validation, errors, ordering, ties and paging."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import SimulatorConfig, SimulatorServer
from tests.simulator_client import FROZEN_NOW, SimClient

from .conftest import Started

DAY = timedelta(days=1)
MS = timedelta(milliseconds=1)


def utc_day(day: int) -> datetime:
    return datetime(2026, 11, day, tzinfo=UTC)


def instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def rooms(records: list[dict[str, Any]]) -> list[str | None]:
    return [r.get("room_name") for r in records]


def iso(when: datetime) -> str:
    return when.isoformat()


def find_midnight_call(sim: SimulatorServer) -> tuple[str, datetime, str]:
    """(assistant, midnight, room_name) of a generated call dispatched at exactly 00:00:00.000."""
    start = sim.history_start + DAY
    for aid in sim.assistant_ids:
        for record in sim.truth(aid, start, FROZEN_NOW):
            when = instant(record["started_at"])
            is_midnight = when.hour == when.minute == when.second == when.microsecond == 0
            if is_midnight and "room_name" in record:
                return aid, when, record["room_name"]
    raise AssertionError("the generator made no midnight call")


# --- bounds ---------------------------------------------------------------------------------


def test_generated_midnight_call_is_returned_by_both_adjacent_day_windows(
    sim: SimulatorServer, api: SimClient
) -> None:
    aid, midnight, room = find_midnight_call(sim)
    day_before = api.all_pages(aid, start_date=iso(midnight - DAY), end_date=iso(midnight))
    day_after = api.all_pages(aid, start_date=iso(midnight), end_date=iso(midnight + DAY))
    assert room in rooms(day_before)
    assert room in rooms(day_after)


def test_inserted_midnight_call_is_returned_by_both_adjacent_day_windows(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim(calls_per_day=5)
    aid = server.assistant_ids[1]
    midnight = utc_day(18)
    record = server.insert_call(aid, midnight, final=True)
    assert instant(record["started_at"]) == midnight
    before = api.all_pages(aid, start_date="2026-11-17", end_date="2026-11-18")
    after = api.all_pages(aid, start_date="2026-11-18", end_date="2026-11-19")
    assert record["room_name"] in rooms(before)
    assert record["room_name"] in rooms(after)
    exactly = api.logs(aid, start_date="2026-11-18T00:00:00Z", end_date="2026-11-18T00:00:00Z")
    assert rooms(exactly["logs"]) == [record["room_name"]]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-11-19", "2026-11-20"),
        ("2026-11-19T00:00:00", "2026-11-20T00:00:00"),
        ("2026-11-19T00:00:00Z", "2026-11-20T00:00:00.000Z"),
        ("2026-11-19T05:30:00+05:30", "2026-11-19T19:00:00-05:00"),
    ],
)
def test_date_only_naive_zulu_and_offset_bounds_mean_the_same_instants(
    sim: SimulatorServer, api: SimClient, start: str, end: str
) -> None:
    aid = sim.assistant_ids[0]
    expected = sim.truth(aid, utc_day(19), utc_day(20) + MS)
    total = api.logs(aid, start_date=start, end_date=end, limit=1)["pagination"]["total"]
    assert total == len(expected)


def test_bounds_filter_started_at_only(sim: SimulatorServer, api: SimClient) -> None:
    aid = sim.assistant_ids[2]
    day = sim.truth(aid, utc_day(18), utc_day(19))
    call = next(
        r
        for r in day
        if r.get("ended_at")
        and "room_name" in r
        and instant(r["ended_at"]) - instant(r["started_at"]) > timedelta(minutes=2)
    )
    started, ended = instant(call["started_at"]), instant(call["ended_at"])
    at_start = api.all_pages(aid, start_date=iso(started), end_date=iso(started))
    assert call["room_name"] in rooms(at_start)
    while_running = api.all_pages(aid, start_date=iso(started + MS), end_date=iso(ended))
    assert call["room_name"] not in rooms(while_running)
    assert all(started < instant(r["started_at"]) <= ended for r in while_running)


# --- validation and errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"limit": "1.5"}, "limit"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-13-01"}, "end_date"),
    ],
)
def test_invalid_parameters_answer_422_with_the_validation_envelope(
    sim: SimulatorServer, api: SimClient, params: dict[str, Any], field: str
) -> None:
    response = api.logs_response(sim.assistant_ids[0], **params)
    assert response.status_code == 422
    body = response.json()
    assert body["success"] is False
    assert body["message"].startswith("Validation Error: ")
    assert [e["loc"] for e in body["data"]["errors"]] == [["query", field]]


def test_limit_100_is_accepted_and_not_clamped_beyond(sim: SimulatorServer, api: SimClient) -> None:
    data = api.logs(sim.assistant_ids[0], limit=100)
    assert data["pagination"]["limit"] == 100
    assert len(data["logs"]) == 100


def test_wrong_key_answers_401_and_missing_header_403(sim: SimulatorServer) -> None:
    path = f"{sim.url}/assistant/call-logs/{sim.assistant_ids[0]}"
    wrong = httpx.get(path, headers={"Authorization": "Bearer not-the-key"})
    assert wrong.status_code == 401
    assert wrong.json() == {"success": False, "message": "Invalid or inactive API key", "data": {}}
    missing = httpx.get(path)
    assert missing.status_code == 403
    assert missing.json() == {"detail": "Not authenticated"}


def test_auth_is_checked_before_validation_and_assistant_lookup(sim: SimulatorServer) -> None:
    path = f"{sim.url}/assistant/call-logs/00000000-0000-4000-8000-000000000000"
    response = httpx.get(path, params={"limit": 1000}, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_unknown_assistant_answers_404_and_validation_comes_first(api: SimClient) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    response = api.logs_response(unknown)
    assert response.status_code == 404
    assert response.json() == {"success": False, "message": "Assistant not found", "data": {}}
    assert api.logs_response(unknown, limit=101).status_code == 422


def test_unknown_path_answers_404_json(api: SimClient) -> None:
    response = api.http.get("/assistant/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert api.http.get("/").status_code == 404


def test_empty_range_has_total_zero_and_zero_pages(sim: SimulatorServer, api: SimClient) -> None:
    data = api.logs(sim.assistant_ids[0], start_date="2020-01-01", end_date="2020-01-02")
    assert data["logs"] == []
    assert data["pagination"] == {"total": 0, "page": 1, "limit": 10, "total_pages": 0}


def test_total_is_counted_and_total_pages_rounds_up(sim: SimulatorServer, api: SimClient) -> None:
    aid = sim.assistant_ids[0]
    total = len(sim.truth(aid, sim.history_start, FROZEN_NOW + MS))
    data = api.logs(aid, limit=7, page=3)
    assert data["pagination"] == {
        "total": total,
        "page": 3,
        "limit": 7,
        "total_pages": -(-total // 7),
    }
    beyond = api.logs(aid, limit=7, page=10_000)
    assert beyond["logs"] == []
    assert beyond["pagination"]["total"] == total


# --- ordering -------------------------------------------------------------------------------


def test_default_is_limit_10_newest_first(sim: SimulatorServer, api: SimClient) -> None:
    aid = sim.assistant_ids[0]
    data = api.logs(aid)
    assert data["pagination"]["limit"] == 10
    assert data["pagination"]["page"] == 1
    starts = [instant(r["started_at"]) for r in data["logs"]]
    assert len(starts) == 10
    assert starts == sorted(starts, reverse=True)
    newest = sim.truth(aid, FROZEN_NOW - DAY, FROZEN_NOW + MS)
    assert starts == sorted((instant(r["started_at"]) for r in newest), reverse=True)[:10]
    assert all(s <= FROZEN_NOW for s in starts)


@pytest.mark.parametrize("order", ["asc", "ascending", "DESC", ""])
def test_any_sort_order_but_desc_is_ascending(
    sim: SimulatorServer, api: SimClient, order: str
) -> None:
    data = api.logs(sim.assistant_ids[0], sort_order=order, limit=50)
    starts = [instant(r["started_at"]) for r in data["logs"]]
    assert starts == sorted(starts)
    assert starts[0] >= sim.history_start


def test_sort_by_a_record_field_orders_by_it_with_nulls_first(
    sim: SimulatorServer, api: SimClient
) -> None:
    aid = sim.assistant_ids[0]
    window: dict[str, Any] = {
        "start_date": "2026-11-19T08:00:00Z",
        "end_date": "2026-11-19T14:00:00Z",
    }
    by_duration = api.all_pages(aid, sort_by="call_duration_minutes", sort_order="asc", **window)
    values = [r.get("call_duration_minutes") for r in by_duration]
    nulls = values.count(None)
    assert values[:nulls] == [None] * nulls
    assert values[nulls:] == sorted(v for v in values if v is not None)
    by_room = api.all_pages(aid, sort_by="room_name", sort_order="desc", **window)
    named = [r["room_name"] for r in by_room if "room_name" in r]
    assert named == sorted(named, reverse=True)
    by_end = api.all_pages(aid, sort_by="ended_at", sort_order="desc", **window)
    ends = [instant(r["ended_at"]) for r in by_end if r.get("ended_at")]
    assert ends == sorted(ends, reverse=True)


def test_sort_by_a_field_no_record_has_gives_unstable_pages(
    sim: SimulatorServer, api: SimClient
) -> None:
    aid = sim.assistant_ids[1]
    window = {"start_date": "2026-11-19", "end_date": "2026-11-20", "sort_by": "call_cost"}
    first = [rooms(api.logs(aid, limit=10, **window)["logs"]) for _ in range(3)]
    assert len({tuple(page) for page in first}) > 1
    pass_rooms = rooms(api.all_pages(aid, limit=20, **window))
    truth = rooms(
        sim.truth(
            aid,
            utc_day(19),
            utc_day(20) + MS,
        )
    )
    assert len(pass_rooms) == len(truth)
    assert Counter(pass_rooms) != Counter(truth)  # pages overlap and skip


# --- ties -------------------------------------------------------------------------------------


def test_equal_started_at_reorders_between_requests(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim(tie_burst_rate=0.5, calls_per_day=40)
    aid = server.assistant_ids[0]
    records = server.truth(aid, utc_day(18), utc_day(19))
    by_start = Counter(r["started_at"] for r in records)
    started_at, size = by_start.most_common(1)[0]
    assert size >= 3
    orders = {
        tuple(rooms(api.logs(aid, start_date=started_at, end_date=started_at)["logs"]))
        for _ in range(12)
    }
    assert len(orders) > 1
    assert all(len(order) == size for order in orders)


def test_offset_paging_over_ties_can_repeat_and_skip_calls(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim(tie_burst_rate=0.6, calls_per_day=60, malformed_rate=0)
    aid = server.assistant_ids[0]
    window = {
        "start_date": "2026-11-18",
        "end_date": "2026-11-18T23:59:59.999Z",
        "sort_order": "asc",
    }
    truth = Counter(rooms(server.truth(aid, utc_day(18), utc_day(19))))
    passes = [Counter(rooms(api.all_pages(aid, limit=5, **window))) for _ in range(5)]
    assert any(p != truth for p in passes)
    assert all(sum(p.values()) == sum(truth.values()) for p in passes)


def test_one_asc_pass_over_a_tie_free_range_equals_truth(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim(tie_burst_rate=0, calls_per_day=150)
    aid = server.assistant_ids[2]
    start, end = utc_day(17), utc_day(19)
    truth = server.truth(aid, start, end)
    served = api.all_pages(
        aid,
        limit=100,
        start_date=iso(start),
        end_date=iso(end - MS),
        sort_order="asc",
    )
    assert len(truth) > 250
    assert served == truth
    newest_first = api.all_pages(aid, limit=100, start_date=iso(start), end_date=iso(end - MS))
    assert newest_first == truth[::-1]


# --- /assistant/list ------------------------------------------------------------------------


def test_assistant_list_pages_like_call_logs(sim: SimulatorServer, api: SimClient) -> None:
    first = api.http.get("/assistant/list", params={"page": 1, "limit": 3}).json()
    second = api.http.get("/assistant/list", params={"page": 2, "limit": 3}).json()
    assert first["success"] is True
    assert first["data"]["pagination"] == {"total": 4, "page": 1, "limit": 3, "total_pages": 2}
    listed = first["data"]["assistants"] + second["data"]["assistants"]
    assert [a["assistant_id"] for a in listed] == sim.assistant_ids
    assert all(a["assistant_name"] for a in listed)
    default = api.http.get("/assistant/list").json()["data"]
    assert default["pagination"]["limit"] == 10
    assert api.http.get("/assistant/list", params={"limit": 0}).status_code == 422
    assert httpx.get(f"{sim.url}/assistant/list").status_code == 403


# --- a model of the paging semantics --------------------------------------------------------


@pytest.fixture(scope="module")
def tie_free_sim() -> Iterator[tuple[SimulatorServer, SimClient]]:
    """Late calls hide part of the last hours; no ties, so every page is exactly predictable."""
    config = SimulatorConfig(
        now=FROZEN_NOW, history_days=3, tie_burst_rate=0, late_rate=0.3, malformed_rate=0
    )
    with SimulatorServer(config) as server, SimClient(server.url, server.api_key) as client:
        yield server, client


@settings(max_examples=60, deadline=None)
@given(
    window=st.tuples(
        st.integers(min_value=-60, max_value=3 * 24 * 60),
        st.integers(min_value=0, max_value=2 * 24 * 60),
    ),
    paging=st.tuples(
        st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=100)
    ),
    descending=st.booleans(),
)
def test_every_page_is_the_slice_of_truth_the_semantics_predict(
    tie_free_sim: tuple[SimulatorServer, SimClient],
    window: tuple[int, int],
    paging: tuple[int, int],
    descending: bool,
) -> None:
    (end_back_min, span_min), (page, limit) = window, paging
    server, api = tie_free_sim
    aid = server.assistant_ids[0]
    end = FROZEN_NOW - timedelta(minutes=end_back_min, milliseconds=end_back_min % 7)
    start = end - timedelta(minutes=span_min, milliseconds=span_min % 5)
    truth = rooms(server.truth(aid, start, end + MS))
    now_ms, lo_ms, hi_ms = (round(t.timestamp() * 1000) for t in (FROZEN_NOW, start, end))
    server.truth(aid, server.history_start, FROZEN_NOW + MS)  # generate every day
    oracle = [  # brute force over every generated call, independent of the indexed view
        plan.room_name
        for plan in server.store.generated_plans(0)
        if plan.visible_ms <= now_ms and lo_ms <= plan.started_ms <= hi_ms
    ]
    assert truth == oracle
    expected = truth[::-1] if descending else truth
    data = api.logs(
        aid,
        start_date=iso(start),
        end_date=iso(end),
        page=page,
        limit=limit,
        sort_order="desc" if descending else "asc",
    )
    skip = (page - 1) * limit
    assert rooms(data["logs"]) == expected[skip : skip + limit]
    assert data["pagination"]["total"] == len(truth)
    assert data["pagination"]["total_pages"] == -(-len(truth) // limit)


@pytest.fixture(scope="module")
def tie_heavy_sim() -> Iterator[tuple[SimulatorServer, SimClient]]:
    config = SimulatorConfig(now=FROZEN_NOW, history_days=2, tie_burst_rate=0.7, late_rate=0.3)
    with SimulatorServer(config) as server, SimClient(server.url, server.api_key) as client:
        yield server, client


@settings(max_examples=40, deadline=None)
@given(
    end_back_min=st.integers(min_value=-60, max_value=2 * 24 * 60),
    paging=st.tuples(st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=60)),
    descending=st.booleans(),
)
def test_pages_over_ties_only_permute_calls_with_equal_started_at(
    tie_heavy_sim: tuple[SimulatorServer, SimClient],
    end_back_min: int,
    paging: tuple[int, int],
    descending: bool,
) -> None:
    server, api = tie_heavy_sim
    page, limit = paging
    aid = server.assistant_ids[1]
    end = FROZEN_NOW - timedelta(minutes=end_back_min)
    start = end - timedelta(hours=20)
    truth = server.truth(aid, start, end + MS)
    ordered = truth[::-1] if descending else truth
    skip = (page - 1) * limit
    order = "desc" if descending else "asc"
    data = api.logs(
        aid, start_date=iso(start), end_date=iso(end), page=page, limit=limit, sort_order=order
    )
    served = data["logs"]
    assert [instant(r["started_at"]) for r in served] == [
        instant(r["started_at"]) for r in ordered[skip : skip + limit]
    ]
    same_instant: dict[datetime, set[str | None]] = {
        instant(r["started_at"]): set() for r in served
    }
    for record in truth:
        if instant(record["started_at"]) in same_instant:
            same_instant[instant(record["started_at"])].add(record.get("room_name"))
    assert all(r.get("room_name") in same_instant[instant(r["started_at"])] for r in served)
    assert data["pagination"]["total"] == len(truth)
