"""Exact extraction against the simulator over a real socket: ties, inserts, faults, boundaries."""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from pipeline.client import CallLogsClient
from pipeline.config import Secret
from pipeline.errors import WindowNotConverged
from pipeline.extract import DayExtract, ExtractOptions, WindowExtractor, record_identity
from pipeline.retry import RetryPolicy
from simulator import SimulatorConfig, SimulatorServer, parse_faults
from tests.simulator_client import FROZEN_NOW, SimClient

FAULT_MIX = "429=0.04,500=0.03,502=0.01,503=0.01,truncate=0.01,drop=0.01,slow=0.01"
FAST_RETRY = RetryPolicy(max_attempts=12, base_delay_s=0.005, max_delay_s=0.05, budget_s=60)


def client_for(sim: SimulatorServer) -> CallLogsClient:
    return CallLogsClient(
        sim.url, Secret(sim.api_key), retry=FAST_RETRY, timeout_s=10, max_in_flight=8
    )


def by_identity(records: list[dict[str, Any]]) -> dict[str, bytes]:
    return {record_identity(r): orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in records}


def extract_all(
    sim: SimulatorServer, start: datetime, end: datetime, **options: Any
) -> Iterator[DayExtract]:
    with client_for(sim) as client, ThreadPoolExecutor(4) as pool:
        extractor = WindowExtractor(client, options=ExtractOptions(**options), page_pool=pool)
        for assistant in sim.assistant_ids:
            yield from extractor.extract(assistant, start, end)


def assert_exact(sim: SimulatorServer, start: datetime, end: datetime, **options: Any) -> int:
    days = list(extract_all(sim, start, end, **options))
    checked = 0
    for assistant in sim.assistant_ids:
        got = [r for d in days if d.assistant_id == assistant for r in d.records]
        assert len(got) == len(by_identity(got)), "duplicates returned"
        truth = by_identity(sim.truth(assistant, start, end))
        assert by_identity(got) == truth
        checked += len(truth)
    for day in days:
        assert day.verified_calls == len(day.records)
    return checked


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_extraction_equals_truth_under_ties_late_calls_and_faults(seed: int) -> None:
    config = SimulatorConfig(
        seed=seed,
        now=FROZEN_NOW,
        history_days=6,
        calls_per_day=150,
        tie_burst_rate=0.08,
        faults=parse_faults(FAULT_MIX),
    )
    with SimulatorServer(config) as sim:
        start = FROZEN_NOW.replace(hour=0) - timedelta(days=4)
        checked = assert_exact(sim, start, FROZEN_NOW)
        assert checked > 1000
        assert sim.stats()["faults_total"] > 0


def test_live_inserts_while_paging_are_caught_by_verification() -> None:
    config = SimulatorConfig(
        seed=7, now=FROZEN_NOW, history_days=4, calls_per_day=300, live_inserts=25
    )
    with SimulatorServer(config) as sim:
        start = FROZEN_NOW.replace(hour=0) - timedelta(days=3)
        assert_exact(sim, start, FROZEN_NOW, chunk_calls=100_000)
        assert sim.stats()["live_inserts"] > 0


def test_midnight_call_lands_in_exactly_one_day() -> None:
    config = SimulatorConfig(seed=5, now=FROZEN_NOW, history_days=4, calls_per_day=50)
    with SimulatorServer(config) as sim:
        midnight = FROZEN_NOW.replace(hour=0) - timedelta(days=1)
        assistant = sim.assistant_ids[0]
        inserted = sim.insert_call(assistant, midnight, final=True)
        days = list(extract_all(sim, midnight - timedelta(days=1), midnight + timedelta(days=1)))
        holders = [
            d.day for d in days for r in d.records if r.get("room_name") == inserted["room_name"]
        ]
        assert holders == [midnight.date()]


def test_burst_larger_than_a_page_in_one_millisecond_is_read_whole() -> None:
    config = SimulatorConfig(seed=9, now=FROZEN_NOW, history_days=3, calls_per_day=20)
    with SimulatorServer(config) as sim:
        assistant = sim.assistant_ids[1]
        moment = FROZEN_NOW - timedelta(hours=5, milliseconds=123)
        for _ in range(250):
            sim.insert_call(assistant, moment, final=True)
        start = FROZEN_NOW.replace(hour=0)
        with client_for(sim) as client:
            extractor = WindowExtractor(client)
            days = list(extractor.extract(assistant, start, FROZEN_NOW))
            assert extractor.stats.tie_reads >= 1
        got = [r for d in days for r in d.records]
        assert by_identity(got) == by_identity(sim.truth(assistant, start, FROZEN_NOW))


def test_naive_paging_loses_or_duplicates_calls_on_the_same_data() -> None:
    """The peers' approach — default desc order, page once — is not exact here; ours is."""
    lost_or_duplicated = 0
    for seed in (11, 12, 13):
        config = SimulatorConfig(
            seed=seed,
            now=FROZEN_NOW,
            history_days=4,
            calls_per_day=300,
            tie_burst_rate=0.1,
            live_inserts=10,
        )
        with SimulatorServer(config) as sim, SimClient(sim.url, sim.api_key) as api:
            assistant = sim.assistant_ids[0]
            start = FROZEN_NOW.replace(hour=0) - timedelta(days=3)
            naive = api.all_pages(
                assistant, start_date=start.isoformat(), end_date=FROZEN_NOW.isoformat()
            )
            truth = by_identity(sim.truth(assistant, start, FROZEN_NOW + timedelta(milliseconds=1)))
            naive_ids = [record_identity(r) for r in naive]
            lost_or_duplicated += len(set(truth) - set(naive_ids))
            lost_or_duplicated += len(naive_ids) - len(set(naive_ids))
            assert_exact(sim, start, FROZEN_NOW)
    assert lost_or_duplicated > 0


def _repeating_server(total: int) -> httpx.MockTransport:
    page = [{"room_name": f"r{i}", "started_at": "2026-11-20T01:00:00.000Z"} for i in range(100)]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "success": True,
                "data": {
                    "logs": page,
                    "pagination": {"total": total, "page": 1, "limit": 100, "total_pages": 10**9},
                },
            },
        )

    return httpx.MockTransport(handler)


def test_a_page_that_repeats_forever_fails_loudly_and_boundedly() -> None:
    transport = _repeating_server(total=5_000)
    requests = 0
    with CallLogsClient("http://api.test", Secret("k"), transport=transport) as client:
        extractor = WindowExtractor(client, options=ExtractOptions(max_depth=6))
        start = datetime(2026, 11, 20, tzinfo=UTC)
        with pytest.raises(WindowNotConverged) as info:
            list(
                extractor.extract(
                    "550e8400-e29b-41d4-a716-446655440000", start, start + timedelta(hours=2)
                )
            )
        requests = client.counters.requests
    assert "rerun" in str(info.value)
    assert requests < 2_000


def test_random_split_plans_still_cover_everything() -> None:
    rng = random.Random(3)
    config = SimulatorConfig(
        seed=21, now=FROZEN_NOW, history_days=3, calls_per_day=400, tie_burst_rate=0.2
    )
    with SimulatorServer(config) as sim:
        start = FROZEN_NOW.replace(hour=0) - timedelta(days=2)
        assert_exact(sim, start, FROZEN_NOW, page_parallelism=rng.choice([1, 3, 8]))


@pytest.mark.soak
@pytest.mark.parametrize("seed", range(100, 120))
def test_soak_extraction_under_the_fault_mix(seed: int) -> None:
    config = SimulatorConfig(
        seed=seed,
        now=FROZEN_NOW,
        history_days=6,
        calls_per_day=200,
        tie_burst_rate=0.08,
        live_inserts=10,
        faults=parse_faults(FAULT_MIX),
    )
    with SimulatorServer(config) as sim:
        start = FROZEN_NOW.replace(hour=0) - timedelta(days=5)
        checked = assert_exact(sim, start, FROZEN_NOW)
        stats = sim.stats()
    print(
        f"\nSOAK extract seed={seed} calls={checked} requests={stats['requests']} "
        f"faults={stats['faults_total']} live_inserts={stats['live_inserts']} lost=0 duplicated=0"
    )


def test_a_large_day_streams_in_bounded_verified_pieces() -> None:
    config = SimulatorConfig(
        seed=44, now=FROZEN_NOW, history_days=3, calls_per_day=600, tie_burst_rate=0.1
    )
    with SimulatorServer(config) as sim, client_for(sim) as client:
        assistant = sim.assistant_ids[0]
        start = FROZEN_NOW.replace(hour=0) - timedelta(days=2)
        extractor = WindowExtractor(client, options=ExtractOptions(chunk_calls=100))
        parts = list(extractor.extract_parts(assistant, start, FROZEN_NOW))
        days = {p.day for p in parts}
        assert len(days) == 3
        assert len(parts) > 3 * 4  # every day came in several pieces
        assert max(len(p.records) for p in parts) <= 100
        assert [p.day for p in parts if p.complete] == sorted(days)
        got = [r for p in parts for r in p.records]
        assert by_identity(got) == by_identity(sim.truth(assistant, start, FROZEN_NOW))


def test_an_empty_range_over_several_days_yields_every_day_once() -> None:
    with SimulatorServer(SimulatorConfig(seed=4, now=FROZEN_NOW, history_days=2)) as sim:
        start = FROZEN_NOW + timedelta(days=1)  # after the simulator's now: nothing there yet
        with client_for(sim) as client:
            parts = list(
                WindowExtractor(client).extract_parts(
                    sim.assistant_ids[0], start, start + timedelta(days=3)
                )
            )
    days = [part.day for part in parts if part.complete]
    assert len(days) == len(set(days)) == 4  # the range touches four UTC days
    assert all(part.records == [] for part in parts)
    assert sum(part.requests for part in parts) == 1
