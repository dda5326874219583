"""A verified window cut into per-day pieces: what extraction hands on, one UTC day at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.isolate import Unreadable
from pipeline.timeparse import parse_timestamps
from pipeline.windows import ONE_DAY, days_touched, midnight

Record = dict[str, Any]


@dataclass
class DayPart:
    """A verified piece of one (assistant, UTC day); ``complete`` marks the day's last piece."""

    assistant_id: str
    day: date
    records: list[Record]
    api_total: int
    requests: int
    window_start: datetime
    window_end: datetime
    complete: bool
    unreadable: tuple[Unreadable, ...] = ()  # parts counted in api_total that the API never serves


@dataclass
class Chunk:
    """A verified window of one assistant: its records (by identity) and the API's total."""

    start: datetime
    end: datetime
    records: dict[str, Record]
    total: int
    requests: int
    unreadable: tuple[Unreadable, ...] = ()


class DaySplitter:
    """Cuts verified chunks (in time order, tiling the range) into per-day pieces."""

    def __init__(self, assistant_id: str, start: datetime, end: datetime) -> None:
        self._assistant = assistant_id
        self._start = start
        self._end = end

    def split(self, chunk: Chunk) -> list[DayPart]:
        chunk_days = days_touched(chunk.start, chunk.end)
        placed: dict[date, list[Record]] = {day: [] for day in chunk_days}
        records = list(chunk.records.values())
        # started_at of every record, parsed column-wise (the same rules as record_started_at)
        moments = parse_timestamps(
            [r.get("started_at") if isinstance(r, Mapping) else None for r in records]
        )
        inside = pc.and_(
            pc.greater_equal(moments, pa.scalar(chunk.start, moments.type)),
            pc.less(moments, pa.scalar(chunk.end, moments.type)),
        )
        days = moments.cast(pa.date32()).to_pylist()
        for record, day, in_chunk in zip(records, days, inside.to_pylist(), strict=True):
            if day is None:
                placed[chunk_days[0]].append(record)  # quarantined by the normaliser
            elif in_chunk:
                placed[day].append(record)
            # else: it belongs to a neighbouring window (inclusive server bounds)
        requests = dict(
            _apportion(chunk.requests, [len(placed[d]) for d in chunk_days], chunk_days)
        )
        parts = []
        for day in chunk_days:
            day_end = midnight(day) + ONE_DAY
            parts.append(
                DayPart(
                    assistant_id=self._assistant,
                    day=day,
                    records=placed[day],
                    # One day: the server's own count; several: the day's share of a verified total.
                    api_total=chunk.total if len(chunk_days) == 1 else len(placed[day]),
                    requests=requests[day],
                    window_start=max(self._start, midnight(day)),
                    window_end=min(self._end, day_end),
                    complete=chunk.end >= min(self._end, day_end),
                    unreadable=chunk.unreadable if day == chunk_days[0] else (),
                )
            )
        return parts


def _apportion(amount: int, weights: list[int], days: list[date]) -> list[tuple[date, int]]:
    """Split ``amount`` over ``days`` in proportion to ``weights`` (largest remainder)."""
    total = sum(weights)
    if total == 0:  # an empty window over several days: its requests count for the first one
        return [(day, amount if i == 0 else 0) for i, day in enumerate(days)]
    exact = [amount * w / total for w in weights]
    shares = [int(x) for x in exact]
    leftovers = sorted(range(len(days)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in leftovers[: amount - sum(shares)]:
        shares[i] += 1
    return list(zip(days, shares, strict=True))
