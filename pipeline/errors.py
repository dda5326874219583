"""One exception hierarchy. Every message says what happened and what to do, never the API key."""

from __future__ import annotations


class CallLogsError(Exception):
    """Base of every error this project raises on purpose; its message is one actionable line."""


class ConfigError(CallLogsError):
    """A setting is missing or invalid."""


class ApiError(CallLogsError):
    """The call-logs API answered something the pipeline cannot use."""


class AuthError(ApiError):
    """401/403: the key is wrong, inactive or missing. Retrying cannot help."""


class AssistantNotFound(ApiError):
    """404 for an assistant: unknown, or not owned by this key."""


class RequestRejected(ApiError):
    """422 or another 4xx: the request itself is invalid; retrying cannot help."""


class ApiUnavailable(ApiError):
    """Retries were exhausted on 429/5xx/timeouts/broken bodies."""


class ApiUnreachable(ApiUnavailable):
    """No connection to the API can be made (refused, DNS, connect timeout): everyone's problem."""


class PageAlwaysFails(ApiUnavailable):
    """The platform answers its own 500 for one request on every attempt while others succeed.

    Deterministic, not transient: typically a stored record its own model rejects, which fails
    every page that holds it (see ``pipeline.isolate``). ``detail`` is what the API answered.
    """

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class SyncStopped(ApiError):
    """Work left undone because another error of this sync concerns every assistant."""


class WindowNotConverged(ApiError):
    """A window's records could not be made to agree with the server's total."""


class LakeError(CallLogsError):
    """The Parquet lake could not be read or written."""


class WarehouseError(CallLogsError):
    """The DuckDB warehouse could not be read or written."""


class QueryCancelled(WarehouseError):
    """A query was interrupted (Ctrl-C) before it finished."""


class ReportError(CallLogsError):
    """`calllogs report` could not draw a chart or write the page."""
