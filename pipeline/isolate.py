"""Poisoned-window isolation: read everything of a window but what the API can never serve.

A stored record that fails the platform's own model makes every page holding it answer 500, every
time, while ``total`` still counts it (api-behaviour.md). Retrying cannot help, and failing the
whole window would lose every other call of it. So a window whose read ends in
:class:`~pipeline.errors.PageAlwaysFails` is narrowed: the part not yet read is halved (at
midnights, then at milliseconds) and each half read normally, recursively, until the failing part
is one millisecond — the API's precision. Inside that millisecond the calls are read one per page
ordered by the unique ``room_name``: each page that still fails is one call the API cannot serve,
every other call of the millisecond is kept. What remains is an :class:`Unreadable` part (usually
one millisecond and one call), recorded in ``unreadable_windows`` and tried again by the next sync.

Cost: about ``2 x log2(window in ms)`` requests per poisoned record (~55 for a day), most of them
pages of the window that are read anyway; a failing probe gives up after a few attempts that all
answered the same 500 message (``ExtractOptions.same_500_attempts``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pipeline.client import Page
from pipeline.errors import PageAlwaysFails
from pipeline.windows import split_in_half

log = logging.getLogger(__name__)

Chunk = TypeVar("Chunk")
# A page beyond any end holds no record, so it answers even when every record is poisoned.
EMPTY_PAGE = 1_000_000_000


@dataclass(frozen=True)
class Unreadable:
    """``[start, end)`` of one assistant: ``api_count`` calls the API counts and never serves."""

    start: datetime
    end: datetime
    api_count: int
    error: str


@dataclass(frozen=True)
class MillisecondRead:
    """What one-call pages of a single millisecond gave: the calls read and those that failed."""

    records: list[Any]
    total: int
    requests: int
    unreadable: Unreadable | None


def readable_chunks(
    read: Callable[[datetime, datetime], Iterator[Chunk]],
    end_of: Callable[[Chunk], datetime],
    read_millisecond: Callable[[datetime, datetime, PageAlwaysFails], Chunk],
    start: datetime,
    end: datetime,
) -> Iterator[Chunk]:
    """The chunks ``read`` yields for ``[start, end)`` (in time order, tiling it), with every part
    that answers a deterministic 500 narrowed down and read by ``read_millisecond``."""
    reached = start
    try:
        for chunk in read(start, end):
            reached = end_of(chunk)
            yield chunk
        return
    except PageAlwaysFails as error:
        failure = error
    halves = split_in_half(reached, end)
    if halves is None:
        yield read_millisecond(reached, end, failure)
        return
    log.info(
        "window %s..%s answers the same 500 every time; narrowing it",
        reached.isoformat(),
        end.isoformat(),
    )
    for part_start, part_end in halves:
        yield from readable_chunks(read, end_of, read_millisecond, part_start, part_end)


def read_millisecond(
    fetch: Callable[[int], Page],
    identity: Callable[[Any], str],
    start: datetime,
    end: datetime,
    failure: PageAlwaysFails,
    *,
    attempts: int = 3,
) -> MillisecondRead:
    """Every call of one millisecond the API serves, one per page (``fetch(page)`` with
    ``limit=1`` ordered by ``room_name``); each page that always fails is one unreadable call.

    The total comes from a page beyond the end, which holds no record. When the calls read and
    the pages that failed do not add up to it (the list changed meanwhile), it is read again.
    """
    requests = 0
    records: dict[str, Any] = {}
    total = failed = 0
    error = failure.detail or str(failure)
    for _attempt in range(attempts):
        total = fetch(EMPTY_PAGE).total
        requests += 1
        failed = 0
        for number in range(1, total + 1):
            requests += 1
            try:
                page = fetch(number)
            except PageAlwaysFails as again:
                failed += 1
                error = again.detail or str(again)
                continue
            for item in page.items:
                records[identity(item)] = item
        if len(records) + failed == total:
            break
    missing = max(0, total - len(records))
    return MillisecondRead(
        records=list(records.values()),
        total=max(total, len(records)),
        requests=requests,
        unreadable=Unreadable(start, end, missing, error) if missing else None,
    )
