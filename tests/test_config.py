"""Settings: one model owns every CALL_LOGS_* variable; a bad value is one line naming it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.errors import ConfigError

A = "550e8400-e29b-41d4-a716-446655440000"
B = "550e8400-e29b-41d4-a716-446655440001"
EVERYTHING = {
    "CALL_LOGS_API_URL": "https://api.example.com/",
    "CALL_LOGS_API_KEY": "sk-secret",
    "CALL_LOGS_ASSISTANT_IDS": f"{A}, {B},{A}",
    "CALL_LOGS_DATA_DIR": "/srv/calllogs",
    "CALL_LOGS_START_DATE": "2026-03-01",
    "CALL_LOGS_LOOKBACK_HOURS": "72",
    "CALL_LOGS_NON_FINAL_MAX_AGE_DAYS": "7",
    "CALL_LOGS_LAKE_URL": "s3://bucket/lake",
    "CALL_LOGS_HASH_PHONE_NUMBERS": "yes",
    "CALL_LOGS_PHONE_HASH_KEY": "hash-secret",
    "CALL_LOGS_CONCURRENCY": "4",
    "CALL_LOGS_RETRY_BUDGET_SECONDS": "30",
    "CALL_LOGS_MAX_REQUESTS_PER_SECOND": "2.5",
    "CALL_LOGS_S3_ENDPOINT_URL": "http://minio:9000",
    "CALL_LOGS_DUCKDB_MEMORY_LIMIT": "2GB",
    "CALL_LOGS_SCHEDULE_CRON": "15  */2 * * 1-5",
}


def test_every_variable_is_read_into_one_typed_model() -> None:
    settings = Settings.from_env(EVERYTHING)
    assert settings.api_url == "https://api.example.com"
    assert settings.api_key.reveal() == "sk-secret" and "sk-secret" not in repr(settings)
    assert settings.assistant_ids == (A, B)
    assert settings.data_dir == Path("/srv/calllogs")
    assert settings.start_date == date(2026, 3, 1)
    assert (settings.lookback_hours, settings.non_final_max_age_days) == (72, 7)
    assert settings.lake_location == "s3://bucket/lake"
    assert settings.hash_phone_numbers and settings.phone_hash_key.reveal() == "hash-secret"
    assert (settings.concurrency, settings.retry_budget_s) == (4, 30.0)
    assert settings.max_requests_per_second == 2.5
    assert settings.s3_endpoint_url == "http://minio:9000"
    assert settings.duckdb_memory_limit == "2GB"
    assert settings.schedule_cron == "15 */2 * * 1-5"
    assert settings.warehouse().memory_limit == "2GB"


def test_defaults_when_nothing_is_set() -> None:
    settings = Settings.from_env({})
    assert settings.api_url == "" and not settings.api_key and settings.assistant_ids is None
    assert settings.start_date == date(2025, 1, 1) and settings.lookback_hours == 48
    assert settings.duckdb_memory_limit == "96MB" and settings.schedule_cron == "0 * * * *"
    assert settings.s3_endpoint_url is None and settings.lake_url is None


@pytest.mark.parametrize("env", [EVERYTHING, {}, {"CALL_LOGS_MAX_REQUESTS_PER_SECOND": "0.1"}])
def test_to_env_gives_the_same_settings_back(env: dict[str, str]) -> None:
    settings = Settings.from_env(env)
    secrets = {
        "CALL_LOGS_API_KEY": settings.api_key.reveal(),
        "CALL_LOGS_PHONE_HASH_KEY": settings.phone_hash_key.reveal(),
    }
    assert Settings.from_env({**settings.to_env(), **secrets}) == settings
    assert not set(settings.to_env().values()) & {"sk-secret", "hash-secret"}  # no secret in it


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("CALL_LOGS_API_URL", "api.example.com", "must start with http"),
        ("CALL_LOGS_ASSISTANT_IDS", "not-a-uuid", "not a UUID"),
        ("CALL_LOGS_START_DATE", "2026-13-01", "not a date"),
        ("CALL_LOGS_LOOKBACK_HOURS", "-1", "at least 0"),
        ("CALL_LOGS_CONCURRENCY", "abc", "not a whole number"),
        ("CALL_LOGS_CONCURRENCY", "0", "at least 1"),
        ("CALL_LOGS_MAX_REQUESTS_PER_SECOND", "fast", "not a number"),
        ("CALL_LOGS_HASH_PHONE_NUMBERS", "maybe", "not a boolean"),
        ("CALL_LOGS_LAKE_URL", "s3://key:secret@bucket", "must not carry credentials"),
        ("CALL_LOGS_S3_ENDPOINT_URL", "ftp://minio", "http://host:port"),
        ("CALL_LOGS_S3_ENDPOINT_URL", "http://u:p@minio:9000", "must not carry credentials"),
        ("CALL_LOGS_DUCKDB_MEMORY_LIMIT", "lots", "not a size"),
        ("CALL_LOGS_SCHEDULE_CRON", "hourly", "not a cron expression"),
        ("CALL_LOGS_SCHEDULE_CRON", "0 * * *", "five fields"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({name: value})
    message = str(raised.value)
    assert name in message and says in message and "\n" not in message
    assert "key:secret" not in message and "u:p@" not in message  # credentials never echoed
