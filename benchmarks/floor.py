"""The raw floor: fetch and parse every page of a window, nothing else.

Four threads, one shared keep-alive ``httpx.Client``; each task pages one (assistant, UTC day)
with ``limit=100`` sorted by ``started_at`` ascending, decoding every page with ``orjson``. No
verification, no normalisation, no writes: what any client must at least spend on the same data.
``python -m benchmarks.floor --start D --end D`` (``CALL_LOGS_API_URL/KEY/ASSISTANT_IDS`` set)
runs it in a process of its own and prints the result line.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date

import httpx
import orjson

from benchmarks.common import day_bounds, days, emit_result

PAGE_SIZE = 100
MAX_PAGES_PER_TASK = 10_000  # a guard: no (assistant, day) of any workload here comes close


@dataclass(frozen=True)
class FloorResult:
    seconds: float
    calls: int
    pages: int
    bytes: int


def fetch_floor(
    url: str,
    api_key: str,
    assistant_ids: list[str],
    start_day: date,
    end_day: date,
    *,
    threads: int = 4,
) -> FloorResult:
    tasks = [(aid, day) for aid in assistant_ids for day in days(start_day, end_day)]
    client = httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=httpx.Timeout(60.0, connect=10.0),
        limits=httpx.Limits(max_connections=threads, max_keepalive_connections=threads),
    )

    def one(task: tuple[str, date]) -> tuple[int, int, int]:
        aid, day = task
        start, end = day_bounds(day, date.fromordinal(day.toordinal() + 1))
        calls = pages = size = 0
        page, total_pages = 1, 1
        while page <= total_pages and page <= MAX_PAGES_PER_TASK:
            response = client.get(
                f"/assistant/call-logs/{aid}",
                params={
                    "page": page, "limit": PAGE_SIZE, "sort_by": "started_at",
                    "sort_order": "asc", "start_date": start, "end_date": end,
                },
            )  # fmt: skip
            response.raise_for_status()
            data = orjson.loads(response.content)["data"]
            calls += len(data["logs"])
            total_pages = int(data["pagination"]["total_pages"])
            pages += 1
            size += len(response.content)
            page += 1
        return calls, pages, size

    try:
        began = time.perf_counter()
        with ThreadPoolExecutor(threads, thread_name_prefix="floor") as pool:
            results = list(pool.map(one, tasks))
        seconds = time.perf_counter() - began
    finally:
        client.close()
    return FloorResult(
        seconds=seconds,
        calls=sum(r[0] for r in results),
        pages=sum(r[1] for r in results),
        bytes=sum(r[2] for r in results),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    env = os.environ  # the API's URL, key and assistants, as a sync gets them
    result = fetch_floor(
        env["CALL_LOGS_API_URL"],
        env["CALL_LOGS_API_KEY"],
        env["CALL_LOGS_ASSISTANT_IDS"].split(","),
        args.start,
        args.end,
        threads=args.threads,
    )
    emit_result(asdict(result))


if __name__ == "__main__":
    main()
