"""Calls/s the simulator serves over keep-alive (``python -m benchmarks.simulator_throughput``).

Starts the simulator in its own process (as ``calllogs simulate`` would), then pages through every
assistant's history with ``limit=100`` from several client threads, one keep-alive connection each.
The default client is the standard library's ``http.client``, which reads every byte and decodes
only the pagination, so the number measures the server; ``--client httpx`` and ``--parse`` show
what a real client costs on top. The first pass also renders and encodes each record version once;
the passes after it show the steady state.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson

from simulator.cli import read_exports

REPO = Path(__file__).resolve().parents[1]
_PAGINATION = b'"pagination":'

Fetch = Callable[[str], bytes]


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[str], dict[str, str]]:
    code = (
        "import sys; from simulator.cli import serve_forever; "
        f"sys.exit(serve_forever(0, {args.seed}, None, {args.calls_per_day}, "
        f"{args.history_days}, {args.assistants}, 0.0))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    assert proc.stdout is not None
    exports = read_exports(proc.stdout)
    if exports is not None:
        return proc, exports
    proc.kill()
    raise RuntimeError("the simulator did not start")


def count_logs(body: bytes, parse: bool) -> tuple[int, int]:
    """(logs on the page, total_pages); without ``parse`` only the pagination tail is decoded."""
    if parse:
        data = orjson.loads(body)["data"]
        return len(data["logs"]), data["pagination"]["total_pages"]
    meta = orjson.loads(body[body.rindex(_PAGINATION) + len(_PAGINATION) : -2])
    skip = (meta["page"] - 1) * meta["limit"]
    return max(0, min(meta["limit"], meta["total"] - skip)), meta["total_pages"]


def stdlib_fetcher(url: str, key: str) -> tuple[Fetch, Callable[[], None]]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
    headers = {"Authorization": f"Bearer {key}"}

    def fetch(path: str) -> bytes:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        return body

    return fetch, conn.close


def httpx_fetcher(url: str, key: str) -> tuple[Fetch, Callable[[], None]]:
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"})

    def fetch(path: str) -> bytes:
        response = client.get(path)
        response.raise_for_status()
        return response.content

    return fetch, client.close


def page_through(
    make: Callable[[], tuple[Fetch, Callable[[], None]]], assistant_id: str, limit: int, parse: bool
) -> tuple[int, int, int]:
    """(calls, requests, bytes) of one ascending pass over an assistant's whole history."""
    calls = requests = size = 0
    fetch, close = make()
    try:
        page, pages = 1, 1
        while page <= pages:
            body = fetch(
                f"/assistant/call-logs/{assistant_id}?page={page}&limit={limit}&sort_order=asc"
            )
            on_page, pages = count_logs(body, parse)
            calls += on_page
            requests += 1
            size += len(body)
            page += 1
    finally:
        close()
    return calls, requests, size


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--assistants", type=int, default=8)
    parser.add_argument("--calls-per-day", type=int, default=150)
    parser.add_argument("--history-days", type=int, default=30)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--client", choices=("stdlib", "httpx"), default="stdlib")
    parser.add_argument("--parse", action="store_true", help="also decode every page fully")
    args = parser.parse_args()

    proc, exports = start_server(args)
    url, key = exports["CALL_LOGS_API_URL"], exports["CALL_LOGS_API_KEY"]
    ids = exports["CALL_LOGS_ASSISTANT_IDS"].split(",")
    factory = stdlib_fetcher if args.client == "stdlib" else httpx_fetcher

    def one(aid: str) -> tuple[int, int, int]:
        return page_through(lambda: factory(url, key), aid, args.limit, args.parse)

    try:
        for number in range(1, args.passes + 1):
            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.threads) as pool:
                results = list(pool.map(one, ids))
            seconds = time.perf_counter() - began
            calls = sum(r[0] for r in results)
            requests = sum(r[1] for r in results)
            size = sum(r[2] for r in results)
            label = "cold (renders each version once)" if number == 1 else "warm"
            print(
                f"pass {number} {label}: {calls:,} calls in {requests:,} pages "
                f"({size / 1e6:,.1f} MB) in {seconds:.2f} s = {calls / seconds:,.0f} calls/s, "
                f"{requests / seconds:,.0f} pages/s; {args.threads} keep-alive {args.client} "
                f"clients{', full parse' if args.parse else ''}",
                flush=True,
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    main()
