"""The overall progress line of a long sync: assistant-days done of planned, elapsed, ETA."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Progress = Callable[[str], None]


class OverallProgress:
    """``done/total assistant-days`` with an ETA, at most every ``every_s`` and at the end."""

    def __init__(self, total: int, *, every_s: float = 10.0) -> None:
        self.total = total
        self.done = 0
        self._every = every_s
        self._began = time.monotonic()
        self._last = self._began
        self._lock = threading.Lock()

    def day_done(self, emit: Progress) -> None:
        with self._lock:
            self.done += 1
            now = time.monotonic()
            if self.done < self.total and now - self._last < self._every:
                return
            self._last = now
            line = self.line(now - self._began)
        emit(line)

    def line(self, elapsed: float) -> str:
        share = self.done / self.total if self.total else 1.0
        left = elapsed / share - elapsed if share else 0.0
        eta = "done" if self.done >= self.total else f"ETA {duration(left)}"
        return (
            f"progress: {self.done}/{self.total} assistant-days ({share:.0%}), "
            f"{duration(elapsed)} elapsed, {eta}"
        )


def duration(seconds: float) -> str:
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
