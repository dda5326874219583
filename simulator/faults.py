"""Fault specification and the seeded per-request fault draw.

Faults model what sits in front of a real deployment (rate limiter, proxies, flaky networks); they
apply to the platform's ``/assistant/*`` endpoints only, never to the simulator's ``/_sim/`` admin.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, fields
from email.utils import formatdate
from time import time

# Spec keyword -> FaultSpec attribute, in the order the cumulative draw walks them.
FAULT_KINDS: dict[str, str] = {
    "429": "http_429",
    "500": "http_500",
    "502": "http_502",
    "503": "http_503",
    "truncate": "truncate",
    "drop": "drop",
    "slow": "slow",
}

SLOW_DELAY_RANGE_S = (0.2, 0.8)


@dataclass(frozen=True)
class FaultSpec:
    """Probability of each fault kind per request; at most one fault is injected per request."""

    http_429: float = 0.0
    http_500: float = 0.0
    http_502: float = 0.0
    http_503: float = 0.0
    truncate: float = 0.0
    drop: float = 0.0
    slow: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            rate = getattr(self, f.name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {f.name}={rate} must be between 0 and 1")
        if self.total() > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {self.total():.3f}; they must not exceed 1")

    def total(self) -> float:
        return float(sum(getattr(self, f.name) for f in fields(self)))

    def rates(self) -> dict[str, float]:
        """Spec keyword -> rate, only the kinds that are switched on."""
        out = {kind: float(getattr(self, attr)) for kind, attr in FAULT_KINDS.items()}
        return {kind: rate for kind, rate in out.items() if rate > 0}

    def choose(self, draw: float) -> str | None:
        """The fault kind a uniform ``draw`` in [0, 1) selects, or None for a healthy request."""
        edge = 0.0
        for kind, attr in FAULT_KINDS.items():
            edge += getattr(self, attr)
            if draw < edge:
                return kind
        return None

    def __str__(self) -> str:
        return ",".join(f"{kind}={rate:g}" for kind, rate in self.rates().items()) or "none"


def parse_faults(spec: str) -> FaultSpec:
    """Parse ``"429=0.05,500=0.03,truncate=0.01"``; empty or ``"none"`` means no faults."""
    text = spec.strip()
    if not text or text.lower() == "none":
        return FaultSpec()
    values: dict[str, float] = {}
    for part in text.split(","):
        item = part.strip()
        if not item:
            continue
        kind, sep, raw_rate = item.partition("=")
        kind = kind.strip().lower()
        if not sep:
            raise ValueError(f"fault {item!r} has no rate; write it as KIND=RATE, e.g. 429=0.05")
        if kind not in FAULT_KINDS:
            known = ", ".join(FAULT_KINDS)
            raise ValueError(f"unknown fault kind {kind!r}; known kinds: {known}")
        if FAULT_KINDS[kind] in values:
            raise ValueError(f"fault kind {kind!r} is given twice")
        try:
            rate = float(raw_rate)
        except ValueError:
            shown = raw_rate.strip()
            raise ValueError(f"fault rate {shown!r} for {kind!r} is not a number") from None
        values[FAULT_KINDS[kind]] = rate
    return FaultSpec(**values)


class FaultInjector:
    """Draws at most one fault per request from one seeded RNG and counts what it injected."""

    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self.spec = spec
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()
        self.counts: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)

    def draw(self) -> tuple[str | None, float]:
        """The fault for the next request and a second uniform number for its details."""
        if not self.spec.total():
            return None, 0.0
        with self._lock:
            kind = self.spec.choose(self._rng.random())
            detail = self._rng.random()
            if kind is not None:
                self.counts[kind] += 1
        return kind, detail


def retry_after_value(detail: float) -> str:
    """Mostly ``0`` or ``1`` seconds; now and then an HTTP date one second ahead."""
    if detail < 0.45:
        return "0"
    if detail < 0.85:
        return "1"
    return formatdate(time() + 1.0, usegmt=True)


def slow_delay_s(detail: float) -> float:
    low, high = SLOW_DELAY_RANGE_S
    return low + (high - low) * detail


def truncated_length(body_length: int, detail: float) -> int:
    """How much of a body a truncated response sends: always at least one byte short."""
    if body_length <= 1:
        return 0
    return min(body_length - 1, int(body_length * (0.1 + 0.8 * detail)))


def html_error_page(status: int, reason: str) -> bytes:
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()
