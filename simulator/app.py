"""Routing and endpoint behaviour: the platform's ``/assistant/*`` API and the ``/_sim/`` admin.

A platform request meets, in order: ``latency_ms``; the fault draw (a proxy in front: 429, 500,
502/503, drop, or slow/truncate around the real answer); 404 for an unknown route, 405 for a method
other than GET; auth (403 without a Bearer header, 401 for a wrong key); 422 for invalid
parameters; 404 for an unknown or deleted assistant (FastAPI validates parameters before the
endpoint looks the assistant up); then one live insert if the budget allows, and the page.
"""

from __future__ import annotations

import itertools
import random
import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from simulator.admin import handle_admin
from simulator.config import DAY_MS, HOUR_MS, Clock, SimulatorConfig, from_ms, to_ms, to_us
from simulator.faults import (
    FaultInjector,
    html_error_page,
    retry_after_value,
    slow_delay_s,
    truncated_length,
)
from simulator.query import (
    Paging,
    ValidationFailed,
    parse_call_log_query,
    parse_paging,
    select_page,
)
from simulator.records import format_ts
from simulator.store import CallStore
from simulator.wire import Request

CALL_LOGS_PREFIX = "/assistant/call-logs/"
_LOGS_HEAD = b'{"success":true,"message":"Call logs retrieved successfully","data":{"logs":['
_NOT_AUTHENTICATED = orjson.dumps({"detail": "Not authenticated"})
_BAD_SCHEME = orjson.dumps({"detail": "Invalid authentication credentials"})
_BAD_KEY = orjson.dumps({"success": False, "message": "Invalid or inactive API key", "data": {}})
_NO_ASSISTANT = orjson.dumps({"success": False, "message": "Assistant not found", "data": {}})
_NOT_FOUND = orjson.dumps({"detail": "Not Found"})
_NOT_ALLOWED = orjson.dumps({"detail": "Method Not Allowed"})
_RATE_LIMITED = orjson.dumps(
    {"success": False, "message": "Too Many Requests: rate limit exceeded", "data": {}}
)
_SERVER_ERROR = orjson.dumps(
    {"success": False, "message": "Internal Server Error: database connection reset", "data": {}}
)
# What the platform answers for a page holding a record its own model rejects (api-behaviour.md).
_POISONED_PAGE = orjson.dumps(
    {
        "success": False,
        "message": "Internal Server Error: 1 validation error for CallRecord\ncall_status\n  "
        "Input should be 'initiated', 'ringing', 'answered', 'completed', 'failed' or "
        "'no_answer' [type=enum, input_value='reaped', input_type=str]",
        "data": {},
    }
)
_HTML = "text/html"


class SimulatorApp:
    def __init__(self, cfg: SimulatorConfig, clock: Clock, store: CallStore) -> None:
        self.cfg = cfg
        self.clock = clock
        self.store = store
        self.faults = FaultInjector(cfg.faults, cfg.seed)
        self._request_numbers = itertools.count()
        self._poisoned: set[str] = set()  # room names of records no page can hold
        self._stats_lock = threading.Lock()
        self._stats: dict[str, int] = dict.fromkeys(
            (
                "requests",
                "call_log_requests",
                "assistant_list_requests",
                "admin_requests",
                "records_served",
                "live_inserts",
                "poisoned_pages",
                "responses_2xx",
                "responses_4xx",
                "responses_5xx",
            ),
            0,
        )

    # --- bookkeeping --------------------------------------------------------------------------

    def _count(self, **increments: int) -> None:
        with self._stats_lock:
            for key, value in increments.items():
                self._stats[key] = self._stats.get(key, 0) + value

    def stats(self) -> dict[str, int]:
        with self._stats_lock:
            out = dict(self._stats)
        faults = dict(self.faults.counts)
        for kind, count in faults.items():
            out[f"faults_{kind}"] = count
        out["faults_total"] = sum(faults.values())
        out["inserts"] = self.store.inserts_done
        out["phantoms"] = self.store.phantoms_added
        out["live_inserts_left"] = self.store.insert_budget
        return out

    def _tie_rng(self) -> random.Random:
        return random.Random(self.cfg.seed * 1_000_003 + next(self._request_numbers))

    def _reply(self, req: Request, status: int, body: bytes, **kwargs: Any) -> None:
        bucket = f"responses_{status // 100}xx"
        self._count(**{bucket: 1})
        req.send(status, body, **kwargs)

    # --- dispatch -----------------------------------------------------------------------------

    def __call__(self, req: Request) -> None:
        try:
            self._route(req)
        except Exception as exc:  # a simulator bug must not look like a hung connection
            traceback.print_exc(file=sys.stderr)
            body = orjson.dumps(
                {"success": False, "message": f"Internal Server Error: {exc!r}", "data": {}}
            )
            req.send(500, body)

    def _route(self, req: Request) -> None:
        parts = urlsplit(req.path)
        path = parts.path
        params = parse_qs(parts.query, keep_blank_values=True)
        self._count(requests=1)
        if path.startswith("/_sim/"):
            self._count(admin_requests=1)
            self._admin(req, req.command, path[len("/_sim/") :], params)
            return
        if not path.startswith("/assistant/"):
            self._reply(req, 404, _NOT_FOUND)
            return
        if self.cfg.latency_ms:
            time.sleep(self.cfg.latency_ms / 1000)
        fault, detail = self.faults.draw()
        if fault is not None and self._inject(req, fault, detail):
            return
        status, body = self._platform(req, path, params)
        if fault == "truncate":
            self._reply(req, status, body, send_bytes=truncated_length(len(body), detail))
            return
        self._reply(req, status, body)

    def _inject(self, req: Request, fault: str, detail: float) -> bool:
        """Apply ``fault``; True when it replaced the response."""
        if fault == "drop":
            req.drop()
            return True
        if fault == "slow":
            time.sleep(slow_delay_s(detail))
            return False
        if fault == "429":
            self._reply(req, 429, _RATE_LIMITED, headers={"Retry-After": retry_after_value(detail)})
            return True
        if fault == "500":
            self._reply(req, 500, _SERVER_ERROR)
            return True
        if fault in ("502", "503"):
            status = int(fault)
            reason = "Bad Gateway" if status == 502 else "Service Temporarily Unavailable"
            self._reply(req, status, html_error_page(status, reason), content_type=_HTML)
            return True
        return False  # truncate: the real response is cut later

    # --- the platform -------------------------------------------------------------------------

    def _auth_failure(self, req: Request) -> tuple[int, bytes] | None:
        header = (req.headers.get("Authorization") or "").strip()
        if not header:
            return 403, _NOT_AUTHENTICATED
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return 403, _BAD_SCHEME
        if token.strip() != self.cfg.api_key:
            return 401, _BAD_KEY
        return None

    def _platform(
        self, req: Request, path: str, params: Mapping[str, Sequence[str]]
    ) -> tuple[int, bytes]:
        raw_id = path[len(CALL_LOGS_PREFIX) :]
        is_logs = path.startswith(CALL_LOGS_PREFIX) and bool(raw_id) and "/" not in raw_id
        is_list = path == "/assistant/list"
        if not (is_logs or is_list):
            return 404, _NOT_FOUND
        if req.command != "GET":
            return 405, _NOT_ALLOWED
        failure = self._auth_failure(req)
        if failure is not None:
            return failure
        try:
            if is_list:
                self._count(assistant_list_requests=1)
                return 200, self._assistant_list(parse_paging_or_raise(params))
            self._count(call_log_requests=1)
            return self._call_logs(unquote(raw_id), params)
        except ValidationFailed as failed:
            return 422, failed.body()

    def _call_logs(
        self, assistant_id: str, params: Mapping[str, Sequence[str]]
    ) -> tuple[int, bytes]:
        query = parse_call_log_query(params)  # 422 before 404, as FastAPI validates first
        index = self.store.active_index_of(assistant_id)
        if index is None:
            return 404, _NO_ASSISTANT
        now_ms = self.clock.now_ms()
        if self.store.maybe_live_insert(index, query.lo_ms, query.hi_ms, now_ms):
            self._count(live_inserts=1)
        total, plans = select_page(self.store, index, query, now_ms, self._tie_rng)
        if self._poisoned and any(plan.room_name in self._poisoned for plan in plans):
            self._count(poisoned_pages=1)
            return 500, _POISONED_PAGE
        bodies = [self.store.version(plan, now_ms).body for plan in plans]
        self._count(records_served=len(bodies))
        meta = orjson.dumps(query.paging.meta(total))
        return 200, b"".join((_LOGS_HEAD, b",".join(bodies), b'],"pagination":', meta, b"}}"))

    def _assistant_list(self, paging: Paging) -> bytes:
        now_ms = self.clock.now_ms()
        listed = self.store.listing()
        assistants = [
            {
                "assistant_id": aid,
                "assistant_name": self.store.assistant_name(i, now_ms),
                "is_active": True,
                "created_by_email": self.store.ctx.email(i),
                "created_at": format_ts(created_ms, "offset", None),
            }
            for i, aid, created_ms in listed[paging.skip : paging.skip + paging.limit]
        ]
        return orjson.dumps(
            {
                "success": True,
                "message": "Assistants retrieved successfully",
                "data": {"assistants": assistants, "pagination": paging.meta(len(listed))},
            }
        )

    # --- /_sim/ admin -------------------------------------------------------------------------

    def _admin(
        self, req: Request, method: str, route: str, params: Mapping[str, Sequence[str]]
    ) -> None:
        def arg(name: str) -> str | None:
            values = params.get(name)
            return values[-1] if values else None

        try:
            result = handle_admin(self, method, route, arg)
        except (ValueError, KeyError) as exc:
            self._reply(req, 400, orjson.dumps({"detail": str(exc)}))
            return
        if result is None:
            self._reply(req, 404, _NOT_FOUND)
            return
        self._reply(req, 200, orjson.dumps(result))

    def _index(self, assistant_id: str) -> int:
        index = self.store.index_of(assistant_id)
        if index is None:
            raise KeyError(f"unknown assistant {assistant_id!r}")
        return index

    def insert_call(
        self, assistant_id: str, started_at: datetime, final: bool | None = True
    ) -> dict[str, Any]:
        """Add one call now (visible at once if it has started); returns its current record."""
        now_ms = self.clock.now_ms()
        plan = self.store.insert(self._index(assistant_id), to_ms(started_at), now_ms, final)
        result: dict[str, Any] = orjson.loads(self.store.version(plan, now_ms).body)
        return result

    def insert_late(self, assistant_id: str, days_ago: int) -> dict[str, Any]:
        """A finished call written now into the day ``days_ago`` days back (a late insert)."""
        if days_ago < 1:
            raise ValueError("days_ago must be at least 1 (a day that has ended)")
        now_ms = self.clock.now_ms()
        day_start = (now_ms // DAY_MS - days_ago) * DAY_MS
        rng = random.Random(f"late:{self.cfg.seed}:{assistant_id}:{days_ago}:{now_ms}")
        started_ms = day_start + rng.randrange(HOUR_MS, DAY_MS - 2 * HOUR_MS)
        return self.insert_call(assistant_id, from_ms(started_ms), final=True)

    def seed_options(self) -> None:
        """The configured late calls and poisoned records, at moments drawn from the seed."""
        rng = random.Random(f"options:{self.cfg.seed}")
        now_ms = self.clock.now_ms()
        ids = self.store.assistant_ids
        oldest_day = max(1, self.cfg.history_days - 1)
        for number in range(self.cfg.poisoned_calls):
            days_ago = rng.randint(1, oldest_day)
            moment = (now_ms // DAY_MS - days_ago) * DAY_MS + rng.randrange(DAY_MS)
            self.poison_call(ids[number % len(ids)], from_ms(moment))
        visible_ms = now_ms + round(self.cfg.late_calls_after_s * 1000)
        for number in range(self.cfg.late_calls):
            days_ago = rng.randint(min(3, oldest_day), oldest_day)
            moment = (now_ms // DAY_MS - days_ago) * DAY_MS + rng.randrange(
                HOUR_MS, DAY_MS - HOUR_MS
            )
            index = self._index(ids[number % len(ids)])
            self.store.insert(index, moment, now_ms, final=True, visible_ms=visible_ms)

    def poison_call(self, assistant_id: str, started_at: datetime) -> dict[str, Any]:
        """Add one finished call that the platform cannot serve: every page holding it is a 500."""
        record = self.insert_call(assistant_id, started_at, final=True)
        self._poisoned.add(str(record["room_name"]))
        return record

    def cure(self, room_name: str) -> bool:
        """Let a poisoned record be served again (the platform fixed it); False if it was not."""
        if room_name not in self._poisoned:
            return False
        self._poisoned.discard(room_name)
        return True

    @property
    def poisoned_rooms(self) -> frozenset[str]:
        return frozenset(self._poisoned)

    def add_phantom(self, assistant_id: str, started_at: datetime) -> None:
        """Make every query whose range holds ``started_at`` count one call it never serves."""
        self.store.add_phantom(self._index(assistant_id), to_ms(started_at))

    def truth(self, assistant_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Records held now, deleted assistants included (their data outlives the listing)."""
        index = self._index(assistant_id)
        now_ms = self.clock.now_ms()
        lo_ms = -(-to_us(start) // 1000)
        hi_ms = -(-to_us(end) // 1000) - 1  # end is exclusive
        with self.store.lock:
            view = self.store.view(index, lo_ms, hi_ms, now_ms)
            plans = view.plans(0, view.size)
        return [orjson.loads(self.store.version(p, now_ms).body) for p in plans]


def parse_paging_or_raise(params: Mapping[str, Sequence[str]]) -> Paging:
    errors: list[dict[str, Any]] = []
    paging = parse_paging(params, errors)
    if errors:
        raise ValidationFailed(errors)
    return paging
