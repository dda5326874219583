"""Retry timing: backoff bounds, Retry-After forms, the shared rate limit."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from pipeline.retry import RateLimiter, RetryPolicy, parse_retry_after


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=4.0)
    rng = random.Random(0)
    for attempt in range(1, 12):
        ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
        assert 0.0 <= policy.backoff(attempt, rng) <= ceiling


def test_retry_after_seconds_zero_and_http_date() -> None:
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 25 Nov 2026 12:00:05 GMT", now=now) == 5.0
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_rate_limiter_spaces_requests() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(10.0, burst=1.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(11):
        limiter.acquire()
    # 11 requests at 10/s with a burst of one need ~1 s of waiting.
    assert abs(sum(slept) - 1.0) < 1e-6
