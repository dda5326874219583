"""Fault injection: the spec parser and what each fault kind looks like on the wire."""

from __future__ import annotations

import socket
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
import pytest

from simulator import FaultSpec, SimulatorServer, parse_faults
from simulator.faults import FAULT_KINDS

from .conftest import Started


def raw_exchange(server: SimulatorServer, path: str) -> bytes:
    """Send one request on a fresh socket and read until the server closes it (5 s at most)."""
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: sim\r\n"
            f"Authorization: Bearer {server.api_key}\r\n\r\n".encode()
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def logs_path(server: SimulatorServer) -> str:
    return f"/assistant/call-logs/{server.assistant_ids[0]}?limit=100"


# --- the spec -------------------------------------------------------------------------------


def test_parse_faults_reads_every_kind() -> None:
    spec = parse_faults("429=0.05,500=0.03,502=0.01,503=0.01,truncate=0.01,drop=0.01,slow=0.02")
    assert spec == FaultSpec(
        http_429=0.05,
        http_500=0.03,
        http_502=0.01,
        http_503=0.01,
        truncate=0.01,
        drop=0.01,
        slow=0.02,
    )
    assert set(spec.rates()) == set(FAULT_KINDS)
    assert parse_faults(str(spec)) == spec
    assert parse_faults("") == FaultSpec() == parse_faults("none")
    assert parse_faults(" 429 = 0.5 , ") == FaultSpec(http_429=0.5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("418=0.1", "unknown fault kind '418'; known kinds: 429, 500, 502, 503, truncate"),
        ("429", "has no rate"),
        ("429=lots", "is not a number"),
        ("429=0.1,429=0.2", "given twice"),
        ("500=1.5", "between 0 and 1"),
        ("500=0.7,502=0.7", "must not exceed 1"),
    ],
)
def test_parse_faults_rejects_bad_specs_clearly(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_faults(spec)


# --- each kind on the wire ------------------------------------------------------------------


def test_429_carries_retry_after_as_seconds_or_an_http_date(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim(faults=parse_faults("429=1"))
    seen = set()
    for _ in range(30):
        response = api.logs_response(server.assistant_ids[0])
        assert response.status_code == 429
        assert response.json()["success"] is False
        value = response.headers["Retry-After"]
        if value.isdigit():
            assert value in {"0", "1"}
            seen.add("seconds")
        else:
            assert parsedate_to_datetime(value).tzinfo is not None
            seen.add("date")
    assert seen == {"seconds", "date"}
    assert server.stats()["faults_429"] == 30


def test_500_is_json_and_502_503_are_html(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim(faults=parse_faults("500=0.34,502=0.33,503=0.33"))
    by_status: dict[int, httpx.Response] = {}
    for _ in range(40):
        response = api.logs_response(server.assistant_ids[0])
        by_status[response.status_code] = response
    assert set(by_status) == {500, 502, 503}
    body = by_status[500].json()
    assert body["success"] is False and body["message"].startswith("Internal Server Error: ")
    assert body["data"] == {}
    for status in (502, 503):
        assert by_status[status].headers["Content-Type"].startswith("text/html")
        assert f"<h1>{status} " in by_status[status].text
    stats = server.stats()
    assert stats["faults_500"] + stats["faults_502"] + stats["faults_503"] == 40
    assert stats["faults_total"] == 40


def test_truncate_sends_full_content_length_then_part_of_the_body(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim(faults=parse_faults("truncate=1"))
    raw = raw_exchange(server, logs_path(server))
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    length = int(
        next(
            line.split(b":", 1)[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
    )
    assert 0 < len(body) < length
    with pytest.raises(httpx.RemoteProtocolError):
        api.logs_response(server.assistant_ids[0])
    assert server.stats()["faults_truncate"] == 2


def test_drop_closes_the_connection_without_a_response(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim(faults=parse_faults("drop=1"))
    assert raw_exchange(server, logs_path(server)) == b""
    with pytest.raises(httpx.RemoteProtocolError):
        api.logs_response(server.assistant_ids[0])
    assert server.stats()["faults_drop"] == 2


def test_slow_still_answers_correctly(make_sim: Callable[..., Started]) -> None:
    server, api = make_sim(faults=parse_faults("slow=1"), latency_ms=1)
    data = api.logs(server.assistant_ids[0], limit=5)
    assert len(data["logs"]) == 5
    assert server.stats()["faults_slow"] == 1


def test_admin_routes_are_never_faulted(make_sim: Callable[..., Started]) -> None:
    _, api = make_sim(faults=parse_faults("drop=1"))
    for _ in range(5):
        assert api.admin("GET", "now")["now"]
    assert api.admin("GET", "stats")["faults_drop"] == 0


def test_mixed_faults_leave_healthy_requests_and_count_every_fault(
    make_sim: Callable[..., Started],
) -> None:
    server, api = make_sim(faults=parse_faults("429=0.2,500=0.2,502=0.1,503=0.1"))
    statuses = [api.logs_response(server.assistant_ids[0]).status_code for _ in range(60)]
    assert 200 in statuses
    stats = server.stats()
    assert stats["faults_total"] == sum(1 for s in statuses if s != 200)
    assert stats["call_log_requests"] == statuses.count(200)
