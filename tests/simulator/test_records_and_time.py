"""Generated data: shapes, platform rules, determinism, and how records change with the clock."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from pipeline.schemas import FINAL_STATUSES, KNOWN_STATUSES, NON_FINAL_STATUSES
from simulator import SimulatorConfig, SimulatorServer
from simulator.data import SIP_CODES_BY_OUTCOME
from tests.simulator_client import FROZEN_NOW, SimClient

from .conftest import Started

LATER = FROZEN_NOW + timedelta(milliseconds=1)
SHAPES = {
    "naive": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000$"),
    "zulu": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"),
    "utc": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000\+00:00$"),
    "other_offset": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000[+-](?!00:00)\d\d:\d\d$"),
}


def instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def everything(sim: SimulatorServer) -> list[dict[str, Any]]:
    return [r for aid in sim.assistant_ids for r in sim.truth(aid, sim.history_start, LATER)]


def shape_of(text: str) -> str:
    return next(name for name, pattern in SHAPES.items() if pattern.match(text))


def as_int(value: Any) -> int | None:
    return None if value is None else int(value)


def test_timestamps_use_every_era_shape_and_whole_milliseconds(sim: SimulatorServer) -> None:
    records = everything(sim)
    shapes = Counter(shape_of(r["started_at"]) for r in records)
    assert set(shapes) == set(SHAPES)
    assert shapes["other_offset"] < len(records) * 0.1
    oldest = min(records, key=lambda r: instant(r["started_at"]))
    newest = max(records, key=lambda r: instant(r["started_at"]))
    assert shape_of(oldest["started_at"]) in {"naive", "other_offset"}
    assert shape_of(newest["started_at"]) in {"utc", "other_offset"}
    for record in records:
        era = shape_of(record["started_at"])
        for key in ("answered_at", "ended_at", "agent_ready_at"):
            if record.get(key):
                assert shape_of(record[key]) == era
        assert instant(record["started_at"]).microsecond % 1000 == 0


def test_records_follow_the_platform_rules(sim: SimulatorServer) -> None:
    records = everything(sim)
    statuses = Counter(r["call_status"] for r in records)
    assert set(statuses) <= KNOWN_STATUSES
    assert set(FINAL_STATUSES) <= set(statuses)
    # outbound campaigns reach about 4 in 10; inbound and web calls are answered by the platform
    for kinds, low, high in (({"outbound"}, 0.3, 0.5), ({"inbound", "web"}, 0.85, 1.0)):
        calls = [r for r in records if r["call_type"] in kinds]
        completed = sum(r["call_status"] == "completed" for r in calls)
        assert calls and low < completed / len(calls) < high, (kinds, completed, len(calls))
    for r in records:
        code = as_int(r["sip_status_code"])
        if r["call_service"] in {"exotel", "web"} or r["call_status"] in {"completed", "timeout"}:
            assert code is None
        if code is not None:
            assert code in SIP_CODES_BY_OUTCOME[r["call_status"]]
            assert r["sip_status_text"]
        if r["call_status"] in NON_FINAL_STATUSES:
            assert r["ended_at"] is None and r["call_duration_minutes"] is None
            continue
        started, ended = instant(r["started_at"]), instant(r["ended_at"])
        answered = instant(r["answered_at"]) if r["answered_at"] else None
        duration = r["call_duration_minutes"]
        if duration not in (None, 0):
            expected = (ended - (answered or started)).total_seconds() / 60
            assert math.isclose(duration, expected, abs_tol=1e-9)
        billable = as_int(r["billable_duration_minutes"])
        if answered is None:
            assert billable == 0
        else:
            assert billable == math.ceil((ended - answered).total_seconds() / 60)
        if r["call_status"] == "completed":
            assert answered is not None and started < answered < ended


def test_failed_calls_include_setup_failures_and_reaper_closed_ones(sim: SimulatorServer) -> None:
    failed = [r for r in everything(sim) if r["call_status"] == "failed"]
    assert any(r["call_duration_minutes"] == 0 for r in failed)
    assert any(r["call_duration_minutes"] is None for r in failed)


def test_transcripts_are_ordered_unicode_and_only_for_answered_calls(sim: SimulatorServer) -> None:
    records = everything(sim)
    speakers: Counter[str] = Counter()
    texts: list[str] = []
    for r in records:
        turns = r["transcripts"]
        if turns is None:
            continue
        if r["answered_at"] is None or r["call_status"] != "completed":
            assert turns == []
            continue
        times = [instant(t["timestamp"]) for t in turns]
        assert times == sorted(times)
        speakers.update(t["speaker"] for t in turns)
        texts.extend(t["text"] for t in turns)
    assert {"user", "assistant", "agent"} <= set(speakers)
    joined = "".join(texts)
    assert re.search("[\u0900-\u097f]", joined)  # Devanagari
    assert re.search("[\U0001f300-\U0001faff]", joined)  # emoji
    assert '"' in joined and "\n" in joined
    assert max(len(r["transcripts"] or []) for r in records) >= 100


def test_malformed_records_and_extra_fields_appear(make_sim: Callable[..., Started]) -> None:
    server, _ = make_sim(malformed_rate=0.2)
    records = everything(server)
    assert any("room_name" not in r for r in records)
    assert any(r["transcripts"] is None for r in records)
    assert any(isinstance(r.get("billable_duration_minutes"), str) for r in records)
    assert any(isinstance(r.get("sip_status_code"), str) for r in records)
    finals = [r for r in records if r["call_status"] in FINAL_STATUSES]
    with_usage = [r for r in finals if "usage" in r]
    assert with_usage
    assert all(isinstance(r["usage"]["estimated_cost_usd"], str) for r in with_usage)
    assert all(Decimal(r["usage"]["estimated_cost_usd"]) >= 0 for r in with_usage)
    assert any("sentiment_score" in r for r in records)
    names = {r.get("room_name") for r in records} - {None}
    assert len(names) == sum(1 for r in records if "room_name" in r)
    assert all(
        name.startswith(r["assistant_id"] + "_") for r in records if (name := r.get("room_name"))
    )


def test_same_seed_same_data_and_other_seed_other_data() -> None:
    config: dict[str, Any] = {"now": FROZEN_NOW, "history_days": 3}
    with (
        SimulatorServer(SimulatorConfig(seed=7, **config)) as a,
        SimulatorServer(SimulatorConfig(seed=7, **config)) as b,
        SimulatorServer(SimulatorConfig(seed=8, **config)) as c,
    ):
        assert a.assistant_ids == b.assistant_ids
        assert a.assistant_ids != c.assistant_ids
        day = (datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))
        # b reads a later day first: generation order must not matter
        b.truth(b.assistant_ids[0], day[1], LATER)
        assert everything(a) == everything(b)
        assert a.truth(a.assistant_ids[0], *day) == b.truth(b.assistant_ids[0], *day)
        assert len(everything(c)) > 0
        assert [r["to_number"] for r in everything(a)][:20] != [
            r["to_number"] for r in everything(c)
        ][:20]


# --- the clock ------------------------------------------------------------------------------


def test_advance_makes_in_progress_calls_terminal_and_reveals_late_calls(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim(late_rate=0.3, calls_per_day=2000)
    aid = server.assistant_ids[0]
    window = (FROZEN_NOW - timedelta(hours=8), LATER)
    before = {r["room_name"]: r for r in server.truth(aid, *window) if "room_name" in r}
    open_calls = [name for name, r in before.items() if r["call_status"] in NON_FINAL_STATUSES]
    assert open_calls
    served_before = api.all_pages(
        aid, start_date=window[0].isoformat(), end_date=FROZEN_NOW.isoformat()
    )
    assert {r.get("room_name") for r in served_before} - {None} == set(before)

    server.advance(7 * 3600)
    assert server.now() == FROZEN_NOW + timedelta(hours=7)
    after = {r["room_name"]: r for r in server.truth(aid, *window) if "room_name" in r}
    assert all(after[name]["call_status"] in FINAL_STATUSES for name in open_calls)
    revealed = set(after) - set(before)
    assert revealed, "late calls that started before the old now must appear"
    assert all(instant(after[name]["started_at"]) <= FROZEN_NOW for name in revealed)
    served_after = api.all_pages(
        aid, start_date=window[0].isoformat(), end_date=FROZEN_NOW.isoformat()
    )
    assert {r.get("room_name") for r in served_after} - {None} == set(after)
    newer = server.truth(aid, LATER, FROZEN_NOW + timedelta(hours=7, milliseconds=1))
    assert newer, "new calls arrive as the clock moves"


def test_set_now_moves_the_clock_both_ways(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim()
    aid = server.assistant_ids[0]
    total = api.logs(aid)["pagination"]["total"]
    server.set_now(FROZEN_NOW - timedelta(days=1))
    assert api.logs(aid)["pagination"]["total"] < total
    server.set_now(FROZEN_NOW)
    assert api.logs(aid)["pagination"]["total"] == total


def test_live_inserts_increase_total_while_paging(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim(live_inserts=2)
    aid = server.assistant_ids[3]
    start, end = "2026-11-19T00:00:00Z", "2026-11-19T23:59:59.999Z"
    day = (datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))
    before = len(server.truth(aid, *day))
    totals = [
        api.logs(aid, page=page, limit=20, start_date=start, end_date=end)["pagination"]["total"]
        for page in (1, 2, 3)
    ]
    assert totals == [before + 1, before + 2, before + 2]
    assert len(server.truth(aid, *day)) == before + 2
    assert server.stats()["inserts"] == 2


def test_live_inserts_are_deterministic_final_or_not_and_in_truth() -> None:
    def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        config = SimulatorConfig(now=FROZEN_NOW, history_days=2, live_inserts=8)
        with SimulatorServer(config) as sim, SimClient(sim.url, sim.api_key) as api:
            aid = sim.assistant_ids[0]
            before = sim.truth(aid, sim.history_start, LATER)
            for _ in range(8):
                api.logs(aid, start_date="2026-11-19", limit=1)
            return before, sim.truth(aid, sim.history_start, LATER)

    (before, first), (_, second) = run(), run()
    assert first == second
    known = {r.get("room_name") for r in before}
    inserted = [r for r in first if r.get("room_name") not in known]
    assert len(inserted) == 8
    assert all(instant(r["started_at"]) >= datetime(2026, 11, 19, tzinfo=UTC) for r in inserted)
    statuses = {r["call_status"] in FINAL_STATUSES for r in inserted}
    assert statuses == {True, False}


def test_wall_clock_mode_serves_calls_up_to_now() -> None:
    with SimulatorServer(SimulatorConfig(history_days=1, calls_per_day=200)) as sim:
        with SimClient(sim.url, sim.api_key) as api:
            data = api.logs(sim.assistant_ids[0], limit=5)
        newest = instant(data["logs"][0]["started_at"])
        assert newest <= datetime.now(UTC)
        assert data["pagination"]["total"] > 0
        before = sim.now()
        sim.advance(3600)
        assert sim.now() - before >= timedelta(hours=1)


def test_insert_call_hook_gives_final_or_open_calls_on_request(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim()
    aid = server.assistant_ids[2]
    just_now = server.insert_call(aid, FROZEN_NOW - timedelta(seconds=1), final=True)
    assert just_now["call_status"] in FINAL_STATUSES
    assert instant(just_now["started_at"]) == FROZEN_NOW - timedelta(seconds=1)
    still_open = server.insert_call(aid, FROZEN_NOW - timedelta(days=1), final=False)
    assert still_open["call_status"] in NON_FINAL_STATUSES
    served = api.all_pages(aid, start_date=(FROZEN_NOW - timedelta(days=2)).isoformat())
    assert {just_now["room_name"], still_open["room_name"]} <= {r.get("room_name") for r in served}
    with pytest.raises(ValueError, match="before the simulator's history"):
        server.insert_call(aid, server.history_start - timedelta(milliseconds=1))
