"""HTTP client of the call-logs API: auth, timeouts, retries, typed errors, no paging logic.

The API key lives only in the ``Authorization`` header of the underlying ``httpx.Client``; no
message, log line, exception or ``repr`` produced here contains it (``redact`` is applied to every
text that could echo a server or transport message).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx
import orjson

from pipeline.config import Secret, Settings, validate_assistant_id
from pipeline.errors import (
    ApiError,
    ApiUnavailable,
    ApiUnreachable,
    AssistantNotFound,
    AuthError,
    CallLogsError,
    ConfigError,
    PageAlwaysFails,
    RequestRejected,
    SyncStopped,
)
from pipeline.redaction import redact
from pipeline.retry import RateLimiter, RetryPolicy, parse_retry_after

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100
# A server that has never answered and refuses connections is not worth the whole retry budget.
FIRST_CONNECT_BUDGET_S = 10.0
_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Page:
    """One decoded page of a list endpoint."""

    items: list[Any]
    total: int
    page: int
    limit: int
    total_pages: int


@dataclass
class RequestCounters:
    """Thread-safe tallies of what the client did; shown in progress lines and Dagster metadata."""

    requests: int = 0
    retries: int = 0
    answered: int = 0  # requests the API answered usefully (a decoded 2xx page)
    by_reason: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def count_answer(self) -> None:
        with self._lock:
            self.answered += 1

    def count_retry(self, reason: str) -> None:
        with self._lock:
            self.retries += 1
            self.by_reason[reason] = self.by_reason.get(reason, 0) + 1

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.requests, self.retries


class _Retryable(Exception):
    def __init__(self, reason: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


class CallLogsClient:
    """Thread-safe client: one shared connection pool, bounded in-flight requests, rate limit."""

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        *,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        max_in_flight: int = 8,
        max_requests_per_second: float | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"API URL {base_url!r} must start with http:// or https://")
        if not api_key:
            raise ConfigError("CALL_LOGS_API_KEY is not set; export the platform's Bearer key")
        self._key = api_key
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._gate = threading.BoundedSemaphore(max_in_flight)
        self._limiter = RateLimiter(max_requests_per_second) if max_requests_per_second else None
        self.counters = RequestCounters()
        self._stopped: CallLogsError | None = None
        self._base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {api_key.reveal()}",
                "Accept": "application/json",
                "User-Agent": "calllogs/0.1",
            },
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
            limits=httpx.Limits(
                max_connections=max_in_flight, max_keepalive_connections=max_in_flight
            ),
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"CallLogsClient(base_url={str(self._http.base_url)!r}, api_key=***)"

    def __enter__(self) -> CallLogsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def stop(self, reason: CallLogsError) -> None:
        """Refuse every further request: ``reason`` concerns every assistant of this sync."""
        if self._stopped is None:
            self._stopped = reason

    @property
    def has_answered(self) -> bool:
        """Whether the API answered any request of this client usefully."""
        return self.counters.answered > 0

    # -- endpoints -------------------------------------------------------------------------

    def call_logs_page(
        self,
        assistant_id: str,
        *,
        page: int,
        limit: int = MAX_PAGE_SIZE,
        start_date: str | None = None,
        end_date: str | None = None,
        sort_by: str = "started_at",
        sort_order: str = "asc",
        give_up_after_same_500: int | None = None,
    ) -> Page:
        """One page. ``give_up_after_same_500``: stop retrying after that many attempts that all
        got the same 500 message while the API answers other requests (``PageAlwaysFails``)."""
        assistant = validate_assistant_id(assistant_id)
        params: dict[str, str | int] = {
            "page": page,
            "limit": limit,
            "sort_by": sort_by,
            "sort_order": sort_order,
        }
        if start_date is not None:
            params["start_date"] = start_date
        if end_date is not None:
            params["end_date"] = end_date
        body = self._get_json(
            f"/assistant/call-logs/{assistant}",
            params,
            assistant=assistant,
            give_up_after_same_500=give_up_after_same_500,
        )
        return _decode_page(body, "logs", what=f"call logs of assistant {assistant}")

    def list_assistants(self, *, page_size: int = MAX_PAGE_SIZE) -> list[dict[str, Any]]:
        """Every assistant the key owns (``GET /assistant/list``), following all pages."""
        found: dict[str, dict[str, Any]] = {}
        page_number = 1
        while True:
            body = self._get_json("/assistant/list", {"page": page_number, "limit": page_size})
            page = _decode_page(body, "assistants", what="assistant list")
            for item in page.items:
                if isinstance(item, Mapping) and isinstance(item.get("assistant_id"), str):
                    found[item["assistant_id"]] = dict(item)
            pages_needed = -(-page.total // page_size) if page.total else 0
            if page_number >= pages_needed or not page.items:
                return list(found.values())
            page_number += 1
            if page_number > 10_000:
                raise ApiError("assistant list did not end after 10,000 pages; the API misbehaves")

    # -- transport and retries ---------------------------------------------------------------

    def _get_json(
        self,
        path: str,
        params: Mapping[str, str | int],
        *,
        assistant: str | None = None,
        give_up_after_same_500: int | None = None,
    ) -> Any:
        policy = self._retry
        began = time.monotonic()
        deadline = began + policy.budget_s
        attempt = 0
        reasons: set[str] = set()
        details: set[str] = set()
        while True:
            if self._stopped is not None:
                raise SyncStopped(f"not attempted: {self._stopped}")
            attempt += 1
            try:
                body = self._attempt(path, params, assistant=assistant)
            except _Retryable as failure:
                self.counters.count_retry(failure.reason)
                reasons.add(failure.reason)
                details.add(failure.detail)
                same = reasons == {"500"} and len(details) == 1
                if (
                    give_up_after_same_500 is not None
                    and same
                    and attempt >= give_up_after_same_500
                    and self.has_answered
                ):
                    raise self._exhausted(
                        path, failure, attempt, time.monotonic() - began, same=True
                    ) from None
                if failure.reason == "connect" and not self.has_answered:
                    deadline = min(deadline, began + FIRST_CONNECT_BUDGET_S)
                remaining = deadline - time.monotonic()
                wait = policy.backoff(attempt, self._rng)
                if failure.retry_after is not None:
                    wait = max(wait, min(failure.retry_after, policy.max_delay_s))
                if attempt >= policy.max_attempts or wait >= remaining:
                    raise self._exhausted(
                        path, failure, attempt, time.monotonic() - began, same=same
                    ) from None
                log.info(
                    "retrying GET %s (%s) in %.2fs, attempt %d/%d",
                    path,
                    redact(failure.detail, self._key.reveal()),
                    wait,
                    attempt + 1,
                    policy.max_attempts,
                )
                self._sleep(wait)
            else:
                self.counters.count_answer()
                return body

    def _exhausted(
        self, path: str, failure: _Retryable, attempts: int, seconds: float, *, same: bool
    ) -> ApiUnavailable:
        """The error for a request whose retries ran out, with advice that fits the cause.

        ``same``: every attempt got the platform's own 500, which retrying does not cure.
        """
        detail = redact(failure.detail, self._key.reveal())
        if same and self.has_answered:
            return PageAlwaysFails(
                f"GET {path} answered {detail} on all {attempts} attempts while other requests "
                "succeed: the platform fails on this request itself (often a stored record it "
                "cannot serve), not the network; report it to the platform with this message",
                detail=detail,
            )
        if failure.reason == "connect":
            where = urlsplit(self._base_url)
            address = f"{where.hostname}:{where.port or _default_port(where)}"
            return ApiUnreachable(
                f"cannot connect to the API at {address}"
                f" ({detail}; {attempts} attempts in {seconds:.0f}s); check CALL_LOGS_API_URL and "
                "that the platform is up"
            )
        return ApiUnavailable(
            f"GET {path} failed after {attempts} attempts ({seconds:.1f}s); last error: "
            f"{detail}. The API or the network is unavailable; try again later"
        )

    def _attempt(self, path: str, params: Mapping[str, str | int], *, assistant: str | None) -> Any:
        if self._limiter is not None:
            self._limiter.acquire()
        with self._gate:
            self.counters.count_request()
            try:
                response = self._http.get(path, params=dict(params))
                content = response.content
            except httpx.ConnectTimeout as exc:
                raise _Retryable("connect", f"connect timed out ({type(exc).__name__})") from None
            except httpx.ConnectError as exc:
                raise _Retryable(
                    "connect", f"connection failed ({type(exc).__name__}: {exc})"
                ) from None
            except httpx.TimeoutException as exc:
                raise _Retryable("timeout", f"timed out ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                # Dropped connections and bodies cut short land here (RemoteProtocolError etc.).
                raise _Retryable(
                    "connection", f"connection failed ({type(exc).__name__}: {exc})"
                ) from None
        return self._interpret(response, content, path, assistant)

    def _interpret(
        self, response: httpx.Response, content: bytes, path: str, assistant: str | None
    ) -> Any:
        status = response.status_code
        # Only an error's body is read for its message: a page is decoded once, below.
        message = _server_message(content) if status >= 400 else None
        if status in (401, 403):
            raise AuthError(
                f"the API refused the key ({status} {message or 'unauthorised'}); "
                "check CALL_LOGS_API_KEY"
            )
        if status == 404 and assistant is not None:
            raise AssistantNotFound(
                f"assistant {assistant} was not found or is not owned by this key (404); "
                "check CALL_LOGS_ASSISTANT_IDS or unset it to discover assistants"
            )
        if status in _RETRYABLE_STATUS:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(str(status), f"HTTP {status} {message or ''}".strip(), retry_after)
        if status >= 500:
            raise _Retryable(str(status), f"HTTP {status} {message or ''}".strip())
        if status >= 400:
            raise RequestRejected(
                f"the API rejected GET {path} ({status}: {message or 'no message'}); "
                "this is a bug in the request or an API change — please report it"
            )
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            raise _Retryable("bad_body", f"HTTP {status} body is not JSON") from None
        if not isinstance(body, dict):
            raise _Retryable("bad_body", f"HTTP {status} body is not a JSON object")
        if body.get("success") is False:
            raise ApiError(
                f"the API answered GET {path} with success=false "
                f"({redact(str(body.get('message', 'no message')), self._key.reveal())[:200]}); "
                "check the API's status and try again later"
            )
        return body


def make_client(settings: Settings) -> CallLogsClient:
    """The client a sync uses, built from the settings (the key must be set)."""
    settings.require_api()
    return CallLogsClient(
        settings.api_url,
        settings.api_key,
        timeout_s=settings.request_timeout_s,
        retry=RetryPolicy(budget_s=settings.retry_budget_s),
        max_in_flight=settings.concurrency,
        max_requests_per_second=settings.max_requests_per_second,
    )


def _default_port(url: SplitResult) -> int:
    return 443 if url.scheme == "https" else 80


def _server_message(content: bytes) -> str | None:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    if isinstance(body, dict):
        for key in ("message", "detail"):
            value = body.get(key)
            if isinstance(value, str):
                # Server messages can span lines (``str(exc)`` of a validation error): one line.
                return " ".join(value.split())[:300]
    return None


def _decode_page(body: Any, items_key: str, *, what: str) -> Page:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ApiError(f"{what}: the response has no 'data' object; the API changed shape")
    items = data.get(items_key)
    pagination = data.get("pagination")
    if not isinstance(items, list) or not isinstance(pagination, dict):
        raise ApiError(f"{what}: the response lacks data.{items_key} or data.pagination")
    numbers: dict[str, int] = {}
    for key in ("total", "page", "limit", "total_pages"):
        value = pagination.get(key)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ApiError(f"{what}: pagination.{key}={value!r} is not a whole number")
        try:
            numbers[key] = int(value)
        except ValueError:
            raise ApiError(f"{what}: pagination.{key}={value!r} is not a whole number") from None
        if numbers[key] < 0:
            raise ApiError(f"{what}: pagination.{key}={value!r} is negative")
    return Page(
        items=items,
        total=numbers["total"],
        page=numbers["page"],
        limit=numbers["limit"],
        total_pages=numbers["total_pages"],
    )
