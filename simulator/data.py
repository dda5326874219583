"""Deterministic call timelines: which calls an assistant has on a UTC day, and when each changes.

A day's calls come from an RNG seeded by ``(seed, assistant index, day)`` only, so what a query sees
never depends on which days were generated first. A call's content (numbers, transcript...) is
rendered lazily, per version, by :mod:`simulator.records`.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from simulator.config import DAY_MS, HOUR_MS

if TYPE_CHECKING:
    from simulator.records import Version

OUTCOME_WEIGHTS: dict[str, float] = {
    "completed": 0.40,
    "no_answer": 0.25,
    "busy": 0.10,
    "rejected": 0.06,
    "unreachable": 0.06,
    "cancelled": 0.05,
    "timeout": 0.03,
    "failed": 0.05,
}
_OUTCOMES = list(OUTCOME_WEIGHTS)
_OUTCOME_CUM = list(itertools.accumulate(OUTCOME_WEIGHTS.values()))

# The platform's SIP code -> status mapping (api-behaviour.md); anything else maps to failed.
SIP_CODES_BY_OUTCOME: dict[str, tuple[int, ...]] = {
    "busy": (486, 600),
    "no_answer": (408, 480),
    "rejected": (403, 603),
    "cancelled": (487,),
    "unreachable": (404, 410, 484),
    "failed": (500, 502, 503),
}
SIP_TEXT: dict[int, str] = {
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    410: "Gone",
    480: "Temporarily Unavailable",
    484: "Address Incomplete",
    486: "Busy Here",
    487: "Request Terminated",
    500: "Server Internal Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    600: "Busy Everywhere",
    603: "Decline",
}

# Relative call volume per UTC hour: the assistants dial Indian business hours (IST = UTC+5:30).
_HOUR_WEIGHTS = [1, 1, 2, 4, 7, 9, 10, 10, 9, 9, 10, 10, 9, 7, 5, 3, 2, 2, 1, 1, 1, 1, 1, 1]
_HOUR_CUM = list(itertools.accumulate(_HOUR_WEIGHTS))

# Share of (assistant, day) windows with a call dispatched at exactly 00:00:00.000.
MIDNIGHT_CALL_SHARE = 0.35
LATE_DELAY_H = (1.0, 6.0)
MAX_BURST = 4
OTHER_OFFSETS_MIN = (330, 60, -300, 540, -180)
OTHER_OFFSET_SHARE = 0.03
MALFORMED_KINDS = ("no_room_name", "string_ints", "null_transcripts")


@dataclass(slots=True, eq=False)
class CallPlan:
    """Everything that decides a call's versions; rendered content is cached on it."""

    assistant_index: int
    assistant_id: str
    room_name: str
    started_ms: int
    visible_ms: int
    answered_ms: int | None
    ended_ms: int  # the terminal version appears at this instant
    outcome: str
    reaped: bool  # orphaned call the reaper closed: failed, no duration
    call_type: str
    call_service: str
    sip_code: int | None
    offset_min: int | None  # None = the era's own shape; else written with this UTC offset
    malformed: str | None
    queue_id: str | None
    content_seed: int
    long_transcript: bool
    inserted: bool = False
    cache: dict[str, Version] = field(default_factory=dict)  # phase -> rendered version

    def phase(self, now_ms: int) -> str:
        if now_ms >= self.ended_ms:
            return "final"
        if self.answered_ms is not None and now_ms >= self.answered_ms:
            return "answered"
        return "initiated"

    def is_final_at(self, now_ms: int) -> bool:
        return now_ms >= self.ended_ms


def assistant_uuid(seed: int, index: int) -> str:
    digest = hashlib.blake2b(f"assistant:{seed}:{index}".encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def room_token(*parts: object) -> str:
    key = ":".join(str(p) for p in parts).encode()
    return hashlib.blake2b(key, digest_size=8).hexdigest()


def _pick(rng: random.Random, cumulative: list[float], items: list[str]) -> str:
    draw = rng.random() * cumulative[-1]
    for item, edge in zip(items, cumulative, strict=True):
        if draw < edge:
            return item
    return items[-1]


def _random_ms_in_day(rng: random.Random, day_ms: int) -> int:
    draw = rng.random() * _HOUR_CUM[-1]
    hour = next(h for h, edge in enumerate(_HOUR_CUM) if draw < edge)
    return day_ms + hour * HOUR_MS + rng.randrange(HOUR_MS)


@dataclass(frozen=True)
class GeneratorSettings:
    seed: int
    calls_per_day: int
    malformed_rate: float
    tie_burst_rate: float
    late_rate: float


def plan_call(
    rng: random.Random,
    *,
    settings: GeneratorSettings,
    assistant_index: int,
    assistant_id: str,
    token: str,
    started_ms: int,
    queue_id: str | None,
    late: bool | None = None,
) -> CallPlan:
    """One call's timeline and traits, drawn from ``rng`` in a fixed order."""
    outcome = _pick(rng, _OUTCOME_CUM, _OUTCOMES)
    kind_draw = rng.random()
    call_type = "outbound" if kind_draw < 0.80 else ("inbound" if kind_draw < 0.92 else "web")
    service = "web" if call_type == "web" else ("exotel" if rng.random() < 0.5 else "twilio")
    if call_type != "outbound" and outcome not in ("completed", "failed"):
        outcome = "completed"  # the agent takes every inbound and web call it is offered
    reaped = outcome == "failed" and rng.random() < 0.25
    answered_ms: int | None = None
    long_transcript = False
    sec = 1000.0
    if outcome == "completed":
        answered_ms = started_ms + round(rng.uniform(3, 40) * sec)
        long_transcript = rng.random() < 0.01
        talk_s = rng.uniform(720, 1200) if long_transcript else math.exp(rng.uniform(2.3, 7.09))
        ended_ms = answered_ms + round(talk_s * sec)
    elif outcome == "timeout":
        ended_ms = started_ms + round(rng.uniform(60, 62) * sec)
    elif reaped:
        ended_ms = started_ms + round(rng.uniform(2, 15) * 60 * sec)
    else:
        low, high = {
            "no_answer": (20, 45),
            "busy": (1, 8),
            "rejected": (3, 25),
            "cancelled": (3, 30),
            "unreachable": (1, 6),
            "failed": (0.3, 5),
        }[outcome]
        ended_ms = started_ms + round(rng.uniform(low, high) * sec)
    sip_code: int | None = None
    if service == "twilio" and outcome in SIP_CODES_BY_OUTCOME and not reaped:
        sip_code = rng.choice(SIP_CODES_BY_OUTCOME[outcome])
    is_late = rng.random() < settings.late_rate if late is None else late
    delay_ms = round(rng.uniform(*LATE_DELAY_H) * HOUR_MS) if is_late else 0
    offset_min = rng.choice(OTHER_OFFSETS_MIN) if rng.random() < OTHER_OFFSET_SHARE else None
    malformed = rng.choice(MALFORMED_KINDS) if rng.random() < settings.malformed_rate else None
    return CallPlan(
        assistant_index=assistant_index,
        assistant_id=assistant_id,
        room_name=f"{assistant_id}_{token}",
        started_ms=started_ms,
        visible_ms=started_ms + delay_ms,
        answered_ms=answered_ms,
        ended_ms=ended_ms,
        outcome=outcome,
        reaped=reaped,
        call_type=call_type,
        call_service=service,
        sip_code=sip_code,
        offset_min=offset_min,
        malformed=malformed,
        queue_id=queue_id,
        content_seed=rng.getrandbits(64),
        long_transcript=long_transcript,
    )


def generate_day(
    settings: GeneratorSettings, assistant_index: int, assistant_id: str, day: int
) -> list[CallPlan]:
    """The calls dispatched on UTC day number ``day``, sorted by started_at (ties kept together)."""
    rng = random.Random(f"day:{settings.seed}:{assistant_index}:{day}")
    day_ms = day * DAY_MS
    mean = settings.calls_per_day
    count = max(0, round(rng.gauss(mean, math.sqrt(mean)))) if mean > 0 else 0
    used: set[int] = set()
    slots: list[tuple[int, int, str | None]] = []  # (started_ms, size, queue_id)
    if count and rng.random() < MIDNIGHT_CALL_SHARE:
        used.add(day_ms)
        slots.append((day_ms, 1, None))
    burst_start = settings.tie_burst_rate / 3.0
    placed = len(slots)
    while placed < count:
        size = rng.randint(2, MAX_BURST) if rng.random() < burst_start else 1
        size = min(size, count - placed) if count - placed >= 2 else 1
        started = _random_ms_in_day(rng, day_ms)
        while started in used:  # ties come from bursts only, so a tie-free config has none
            started = _random_ms_in_day(rng, day_ms)
        used.add(started)
        queue = f"q_{room_token('queue', settings.seed, assistant_index, started)[:10]}"
        slots.append((started, size, queue if size > 1 or rng.random() < 0.4 else None))
        placed += size
    slots.sort()
    calls: list[CallPlan] = []
    for started, size, queue_id in slots:
        for _ in range(size):
            token = room_token(settings.seed, assistant_index, day, len(calls))
            calls.append(
                plan_call(
                    rng,
                    settings=settings,
                    assistant_index=assistant_index,
                    assistant_id=assistant_id,
                    token=token,
                    started_ms=started,
                    queue_id=queue_id,
                )
            )
    return calls
