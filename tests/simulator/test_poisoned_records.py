"""Records the platform cannot serve: every page that holds one is a 500, every time.

The API's own model rejects such a record, so the page fails deterministically while pages
without it work and ``pagination.total`` still counts it (api-behaviour.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .conftest import Started

DAY = timedelta(days=1)
MS = timedelta(milliseconds=1)
POISON_AT = datetime(2026, 11, 18, 10, 0, 0, 321_000, tzinfo=UTC)
DAY_START = POISON_AT.replace(hour=0, minute=0, second=0, microsecond=0)


def window(start: datetime, end: datetime, **params: str | int) -> dict[str, str | int]:
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), **params}


def test_every_page_holding_a_poisoned_record_answers_500_every_time(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim(calls_per_day=150, tie_burst_rate=0, malformed_rate=0)
    aid = server.assistant_ids[0]
    truth_before = server.truth(aid, DAY_START, DAY_START + DAY)
    record = server.poison_call(aid, POISON_AT)
    assert record["room_name"] in server.poisoned_rooms
    truth = server.truth(aid, DAY_START, DAY_START + DAY)
    assert len(truth) == len(truth_before) + 1  # the platform holds it

    around = window(POISON_AT - timedelta(hours=1), POISON_AT + timedelta(hours=1), limit=100)
    for _ in range(3):  # deterministic, not transient
        answer = api.http.get(f"/assistant/call-logs/{aid}", params=around)
        assert answer.status_code == 500
        body = answer.json()
        assert body["success"] is False and body["data"] == {}
        assert body["message"].startswith("Internal Server Error: 1 validation error for ")
        assert "\n" in body["message"]  # several lines, as the real server sends them

    # pages without it work; the total still counts it
    before = window(POISON_AT - timedelta(hours=4), POISON_AT - MS, limit=100)
    served = api.logs(aid, **before)
    assert served["pagination"]["total"] == len(served["logs"]) > 0
    one_ms = api.http.get(
        f"/assistant/call-logs/{aid}", params=window(POISON_AT, POISON_AT, limit=1)
    )
    assert one_ms.status_code == 500
    assert server.stats()["poisoned_pages"] == 4


def test_a_cured_record_is_served_again(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim(calls_per_day=20)
    aid = server.assistant_ids[1]
    record = api.admin("POST", f"poison/{aid}", started_at=POISON_AT.isoformat())
    params = window(POISON_AT, POISON_AT, limit=10)
    assert api.http.get(f"/assistant/call-logs/{aid}", params=params).status_code == 500
    assert api.admin("POST", "cure", room_name=record["room_name"]) == {"cured": True}
    assert api.admin("POST", "cure", room_name=record["room_name"]) == {"cured": False}
    served = api.logs(aid, **params)["logs"]
    assert [r["room_name"] for r in served] == [record["room_name"]]
    assert server.poisoned_rooms == frozenset()
