"""The simulator's configuration and its clock (frozen or wall clock, both movable)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from simulator.faults import FaultSpec

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_MS = 86_400_000
HOUR_MS = 3_600_000


@dataclass
class SimulatorConfig:
    seed: int = 42
    assistants: int = 4
    calls_per_day: int = 80
    history_days: int = 30
    now: datetime | None = None
    api_key: str = "sim-demo-key-0123456789abcdef"  # the demo key is public by design
    faults: FaultSpec = field(default_factory=FaultSpec)
    latency_ms: float = 0.0
    live_inserts: int = 0
    # Calls written into old, finished days (a delayed webhook, an import): each appears this many
    # seconds after the simulator starts, long after its day ended — only an audit finds them.
    late_calls: int = 0
    late_calls_after_s: float = 60.0
    # Records the platform's own model rejects: every page holding one answers 500, every time.
    poisoned_calls: int = 0
    malformed_rate: float = 0.01
    tie_burst_rate: float = 0.03
    late_rate: float = 0.02
    port: int = 0

    def __post_init__(self) -> None:
        if self.assistants < 1:
            raise ValueError("assistants must be at least 1")
        counts = (
            self.calls_per_day,
            self.history_days,
            self.live_inserts,
            self.late_calls,
            self.poisoned_calls,
        )
        if min(counts) < 0 or self.late_calls_after_s < 0:
            raise ValueError(
                "calls_per_day, history_days, live_inserts, late_calls, late_calls_after_s and "
                "poisoned_calls must not be negative"
            )
        for name in ("malformed_rate", "tie_burst_rate", "late_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name}={rate} must be between 0 and 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")


def to_ms(when: datetime) -> int:
    """Whole milliseconds since the epoch (naive means UTC; sub-millisecond part dropped)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def to_us(when: datetime) -> int:
    """Whole microseconds since the epoch (naive means UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


class Clock:
    """Simulated time: the wall clock or a frozen instant, plus whatever advance()/set_now() add."""

    def __init__(self, frozen: datetime | None) -> None:
        self._lock = threading.Lock()
        self._frozen_ms = None if frozen is None else to_ms(frozen)
        self._offset_ms = 0

    @property
    def frozen(self) -> bool:
        return self._frozen_ms is not None

    def now_ms(self) -> int:
        if self._frozen_ms is not None:
            return self._frozen_ms
        return to_ms(datetime.now(UTC)) + self._offset_ms

    def now(self) -> datetime:
        return from_ms(self.now_ms())

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("advance() moves time forward only; use set_now() to go back")
        step = round(seconds * 1000)
        with self._lock:
            if self._frozen_ms is not None:
                self._frozen_ms += step
            else:
                self._offset_ms += step

    def set_now(self, when: datetime) -> None:
        target = to_ms(when)
        with self._lock:
            if self._frozen_ms is not None:
                self._frozen_ms = target
            else:
                self._offset_ms = target - to_ms(datetime.now(UTC))
