"""Small helpers for tests that talk to a running simulator over HTTP (in or out of process)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

FROZEN_NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


class SimClient:
    """An httpx client bound to one simulator: platform calls with the key, admin calls without."""

    def __init__(self, url: str, api_key: str, timeout: float = 10.0) -> None:
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout
        )

    def __enter__(self) -> SimClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def logs_response(self, assistant_id: str, **params: Any) -> httpx.Response:
        return self.http.get(f"/assistant/call-logs/{assistant_id}", params=params)

    def logs(self, assistant_id: str, **params: Any) -> dict[str, Any]:
        """The ``data`` object of a successful call-logs page (raises on any other status)."""
        response = self.logs_response(assistant_id, **params)
        response.raise_for_status()
        data: dict[str, Any] = response.json()["data"]
        return data

    def all_pages(self, assistant_id: str, limit: int = 100, **params: Any) -> list[dict[str, Any]]:
        """Every record of a naive offset-paging pass (pages 1..total_pages of the first answer)."""
        first = self.logs(assistant_id, page=1, limit=limit, **params)
        records = list(first["logs"])
        for page in range(2, first["pagination"]["total_pages"] + 1):
            records.extend(self.logs(assistant_id, page=page, limit=limit, **params)["logs"])
        return records

    def admin(self, method: str, route: str, **params: Any) -> Any:
        response = self.http.request(method, f"/_sim/{route}", params=params)
        response.raise_for_status()
        return response.json()
