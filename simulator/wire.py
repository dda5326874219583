"""Wire plumbing on top of ``http.server``: one write per response, keep-alive, broken responses.

The standard library server is used on purpose: no dependency, and full control of the bytes on the
wire, which fault injection needs (a body cut short under a full Content-Length, a dropped
connection).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import time
from typing import Any, Protocol


class Responder(Protocol):
    def __call__(self, request: Request, /) -> None: ...


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache  # noqa: PLW0603 - a per-second cache shared by all handler threads
    now = int(time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


class Request(BaseHTTPRequestHandler):
    """One connection; each request on it goes through ``do_*`` to the app's responder."""

    protocol_version = "HTTP/1.1"
    server_version = "call-logs-simulator/1"
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: SimServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        """Silence the default per-request log line on stderr."""

    def _dispatch(self) -> None:
        length = self.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > 0:
            self.rfile.read(int(length))  # keep the keep-alive stream in step
        self.server.responder(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        send_bytes: int | None = None,
    ) -> None:
        """Write the response in one go; ``send_bytes`` cuts the body and closes the connection."""
        reason = HTTPStatus(status).phrase
        lines = [
            f"HTTP/1.1 {status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {_http_date()}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        if send_bytes is not None:
            self.close_connection = True
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = body if send_bytes is None else body[:send_bytes]
        try:
            self.wfile.write(head + payload)
        except OSError:
            self.close_connection = True

    def drop(self) -> None:
        """Close the connection without answering."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], responder: Responder) -> None:
        super().__init__(address, Request)
        self.responder = responder
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._open_lock:
            if add:
                self._open.add(conn)
            else:
                self._open.discard(conn)

    def close_open_connections(self) -> None:
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-response are normal here; stay quiet about them."""
