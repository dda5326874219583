"""One resource carrying the CALL_LOGS_* settings; the key comes from an EnvVar (stays secret)."""

from __future__ import annotations

import os

import dagster as dg

from pipeline.client import CallLogsClient, make_client
from pipeline.config import Settings
from pipeline.lake import Lake
from pipeline.warehouse import Warehouse


class CallLogsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Settings of the pipeline; builds the API client, the lake and the warehouse."""

    api_url: str
    api_key: str
    assistant_ids: str = ""
    data_dir: str = "./data"
    lake_url: str = ""
    start_date: str = ""
    lookback_hours: int = 48
    concurrency: int = 8
    max_requests_per_second: float = 0.0
    hash_phone_numbers: bool = False

    def settings(self) -> Settings:
        env = {
            "CALL_LOGS_API_URL": self.api_url,
            "CALL_LOGS_API_KEY": self.api_key,
            "CALL_LOGS_ASSISTANT_IDS": self.assistant_ids,
            "CALL_LOGS_DATA_DIR": self.data_dir,
            "CALL_LOGS_LAKE_URL": self.lake_url,
            "CALL_LOGS_START_DATE": self.start_date,
            "CALL_LOGS_LOOKBACK_HOURS": str(self.lookback_hours),
            "CALL_LOGS_CONCURRENCY": str(self.concurrency),
            "CALL_LOGS_MAX_REQUESTS_PER_SECOND": (
                str(self.max_requests_per_second) if self.max_requests_per_second else ""
            ),
            "CALL_LOGS_HASH_PHONE_NUMBERS": "1" if self.hash_phone_numbers else "0",
        }
        # Settings without a field here (retry budget, open-call age, ...) come from the process.
        return Settings.from_env({**os.environ, **env})

    def client(self) -> CallLogsClient:
        return make_client(self.settings())

    def lake(self) -> Lake:
        return Lake(self.settings().lake_location)

    def warehouse(self) -> Warehouse:
        return Warehouse(self.settings().warehouse_path)


def resource_from_env() -> CallLogsResource:
    """Key and endpoint as EnvVars (resolved at run time, hidden in the UI); the rest now."""
    settings = Settings.from_env()
    return CallLogsResource(
        api_url=dg.EnvVar("CALL_LOGS_API_URL"),
        api_key=dg.EnvVar("CALL_LOGS_API_KEY"),
        assistant_ids=",".join(settings.assistant_ids or ()),
        data_dir=str(settings.data_dir),
        lake_url=settings.lake_url or "",
        start_date=settings.start_date.isoformat(),
        lookback_hours=settings.lookback_hours,
        concurrency=settings.concurrency,
        max_requests_per_second=settings.max_requests_per_second or 0.0,
        hash_phone_numbers=settings.hash_phone_numbers,
    )
