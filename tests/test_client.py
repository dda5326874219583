"""The HTTP client: auth, retries, typed errors, redaction (httpx.MockTransport, no network)."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import orjson
import pytest

from pipeline.client import CallLogsClient
from pipeline.config import Secret
from pipeline.errors import (
    ApiError,
    ApiUnavailable,
    AssistantNotFound,
    AuthError,
    ConfigError,
    RequestRejected,
)
from pipeline.retry import RetryPolicy

KEY = "sk-live-supersecret-0123456789"
ASSISTANT = "550e8400-e29b-41d4-a716-446655440000"


def page_body(logs: list[dict[str, object]], total: int, page: int = 1) -> bytes:
    return orjson.dumps(
        {
            "success": True,
            "message": "Call logs retrieved successfully",
            "data": {
                "logs": logs,
                "pagination": {
                    "total": total,
                    "page": page,
                    "limit": 100,
                    "total_pages": -(-total // 100),
                },
            },
        }
    )


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    attempts: int = 5,
    sleeps: list[float] | None = None,
) -> CallLogsClient:
    waits = sleeps if sleeps is not None else []
    return CallLogsClient(
        "http://api.test",
        Secret(KEY),
        retry=RetryPolicy(max_attempts=attempts, base_delay_s=0.01, max_delay_s=2.0, budget_s=60),
        transport=httpx.MockTransport(handler),
        sleep=waits.append,
        rng=random.Random(1),
    )


def test_sends_bearer_key_and_paging_parameters() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=page_body([{"room_name": "a"}], 1))

    with make_client(handler) as client:
        page = client.call_logs_page(
            ASSISTANT, page=2, start_date="2024-01-01T00:00:00.000Z", end_date="x"
        )
    assert page.total == 1 and page.items == [{"room_name": "a"}]
    request = seen[0]
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.url.path == f"/assistant/call-logs/{ASSISTANT}"
    assert request.url.params["sort_by"] == "started_at"
    assert request.url.params["sort_order"] == "asc"
    assert request.url.params["limit"] == "100"
    assert request.url.params["page"] == "2"


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_are_not_retried_and_name_the_setting(status: int) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(
            status, json={"success": False, "message": "Invalid or inactive API key"}
        )

    with make_client(handler) as client, pytest.raises(AuthError) as info:
        client.call_logs_page(ASSISTANT, page=1)
    assert calls == 1
    assert "CALL_LOGS_API_KEY" in str(info.value)
    assert KEY not in str(info.value)


def test_unknown_assistant_names_the_assistant() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"success": False, "message": "Assistant not found"})

    with make_client(handler) as client, pytest.raises(AssistantNotFound) as info:
        client.call_logs_page(ASSISTANT, page=1)
    assert ASSISTANT in str(info.value)


def test_validation_error_is_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"success": False, "message": "Validation Error: limit"})

    with make_client(handler) as client, pytest.raises(RequestRejected) as info:
        client.call_logs_page(ASSISTANT, page=1)
    assert "422" in str(info.value)


def test_malformed_assistant_id_is_rejected_before_any_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request may be sent")

    with make_client(handler) as client, pytest.raises(ConfigError):
        client.call_logs_page("../../admin?x=1", page=1)


def test_retries_transient_failures_then_succeeds() -> None:
    script: list[Callable[[], httpx.Response]] = [
        lambda: httpx.Response(429, headers={"Retry-After": "1"}, json={"message": "slow down"}),
        lambda: httpx.Response(500, json={"success": False, "message": "Internal Server Error: x"}),
        lambda: httpx.Response(502, html="<html>bad gateway</html>"),
        lambda: httpx.Response(503, html="<html>unavailable</html>"),
        lambda: httpx.Response(200, content=b'{"success": true, "data": {"logs": [{"ro'),
        lambda: httpx.Response(200, content=page_body([], 0)),
    ]
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return script.pop(0)()

    with make_client(handler, attempts=10, sleeps=sleeps) as client:
        page = client.call_logs_page(ASSISTANT, page=1)
        assert page.total == 0
        assert client.counters.retries == 5
        assert client.counters.by_reason == {"429": 1, "500": 1, "502": 1, "503": 1, "bad_body": 1}
    assert sleeps[0] >= 1.0  # Retry-After honoured


def test_dropped_connections_are_retried() -> None:
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return httpx.Response(200, content=page_body([], 0))

    with make_client(handler) as client:
        assert client.call_logs_page(ASSISTANT, page=1).total == 0
    assert attempts == 3


def test_exhausted_retries_raise_api_unavailable_without_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, html=f"<html>upstream said {KEY}</html>")

    with make_client(handler, attempts=3) as client, pytest.raises(ApiUnavailable) as info:
        client.call_logs_page(ASSISTANT, page=1)
    message = str(info.value)
    assert "3 attempts" in message and "503" in message
    assert KEY not in message and "\n" not in message


def test_success_false_with_200_is_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"success": False, "message": "database offline"})

    with make_client(handler) as client, pytest.raises(ApiError) as info:
        client.call_logs_page(ASSISTANT, page=1)
    assert "success=false" in str(info.value)


def test_wrong_pagination_shape_is_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={"success": True, "data": {"logs": [], "pagination": {"total": "lots"}}},
        )

    with make_client(handler) as client, pytest.raises(ApiError) as info:
        client.call_logs_page(ASSISTANT, page=1)
    assert "pagination" in str(info.value)


def test_repr_hides_the_key() -> None:
    with make_client(lambda r: httpx.Response(200)) as client:
        assert KEY not in repr(client)
        assert "***" in repr(client)


def test_list_assistants_follows_pages() -> None:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(150)]

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        chunk = ids[(page - 1) * 100 : page * 100]
        return httpx.Response(
            200,
            json={
                "success": True,
                "data": {
                    "assistants": [{"assistant_id": i, "assistant_name": "x"} for i in chunk],
                    "pagination": {"total": 150, "page": page, "limit": 100, "total_pages": 2},
                },
            },
        )

    with make_client(handler) as client:
        found = client.list_assistants()
    assert [a["assistant_id"] for a in found] == ids


def test_a_500_on_every_attempt_while_others_succeed_is_not_try_again_later() -> None:
    broken = "550e8400-e29b-41d4-a716-446655440009"
    message = "Internal Server Error: 1 validation error for CallRecord\ncall_status\n  Input"

    def handler(request: httpx.Request) -> httpx.Response:
        if broken in request.url.path:
            return httpx.Response(500, json={"success": False, "message": message, "data": {}})
        return httpx.Response(200, content=page_body([], total=0))

    with make_client(handler, attempts=3) as client:
        client.call_logs_page(ASSISTANT, page=1)  # the API answers others
        with pytest.raises(ApiUnavailable) as info:
            client.call_logs_page(broken, page=1)
    text = str(info.value)
    assert "\n" not in text and "1 validation error for CallRecord call_status Input" in text
    assert "all 3 attempts" in text and "report it to the platform" in text
    assert "try again later" not in text
