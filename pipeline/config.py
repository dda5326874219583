"""Settings from ``CALL_LOGS_*`` environment variables, validated once, in one place.

:class:`Settings` owns every variable of the pipeline (``CALL_LOGS_SQL_DIR``, an override of where
the SQL is read, and ``CALL_LOGS_SIM_PORT``, the simulator's own, aside): a bad value is a
:class:`ConfigError` naming the variable, raised when the settings are built — by the CLI before
it does anything, by the Dagster definitions when they load.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pipeline.errors import ConfigError
from pipeline.redaction import has_credentials

if TYPE_CHECKING:
    from pipeline.lake import Lake
    from pipeline.warehouse import Warehouse

DEFAULT_START_DATE = date(2025, 1, 1)
DEFAULT_LOOKBACK_HOURS = 48
DEFAULT_NON_FINAL_MAX_AGE_DAYS = 14
DEFAULT_DUCKDB_MEMORY_LIMIT = "96MB"  # 128MB: ~10 MB more peak RSS for ~2 % faster loads
DEFAULT_SCHEDULE_CRON = "0 * * * *"


class Secret:
    """A string that never shows itself in ``repr``, ``str``, f-strings, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def validate_assistant_id(value: str) -> str:
    """Return the canonical form of an assistant UUID, or raise before it can reach a URL."""
    text = value.strip()
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ConfigError(
            f"assistant id {shown!r} is not a UUID; check CALL_LOGS_ASSISTANT_IDS "
            "(comma-separated UUIDs such as 550e8400-e29b-41d4-a716-446655440000)"
        ) from None
    canonical = str(parsed)
    if canonical != text.lower():
        # uuid.UUID also accepts braces, urn: prefixes and missing dashes; a URL must get one form.
        raise ConfigError(f"assistant id {text!r} is not in canonical UUID form; use {canonical}")
    return canonical


def _parse_ids(raw: str | None) -> tuple[str, ...] | None:
    if raw is None or not raw.strip():
        return None
    ids = [validate_assistant_id(part) for part in raw.split(",") if part.strip()]
    return tuple(dict.fromkeys(ids))


def _parse_date(name: str, raw: str | None, default: date) -> date:
    if raw is None or not raw.strip():
        return default
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a date; use YYYY-MM-DD") from None


def _parse_int(name: str, raw: str | None, default: int, minimum: int = 0) -> int:
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def _parse_float(name: str, raw: str | None, default: float | None) -> float | None:
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"{name}={value} must be positive")
    return value


def _parse_bool(name: str, raw: str | None) -> bool:
    if raw is None or not raw.strip():
        return False
    text = raw.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use 1 or 0")


def _parse_lake_url(raw: str | None) -> str | None:
    """The lake location as given; never with credentials in it (it is shown in logs and the UI)."""
    text = (raw or "").strip()
    if not text:
        return None
    scheme, separator, _ = text.partition("://")
    if separator and has_credentials(text):
        raise ConfigError(
            f"CALL_LOGS_LAKE_URL must not carry credentials ({scheme}://<credentials>@...); "
            "use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile or an instance role"
        )
    return text


_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*([KMGT]i?B|B|%)$", re.IGNORECASE)
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")


def _parse_memory_limit(raw: str | None) -> str:
    text = (raw or "").strip()
    if not text:
        return DEFAULT_DUCKDB_MEMORY_LIMIT
    if not _MEMORY_LIMIT.match(text):
        raise ConfigError(
            f"CALL_LOGS_DUCKDB_MEMORY_LIMIT={text!r} is not a size; use e.g. 128MB, 2GB or 50%"
        )
    return text


def _parse_cron(raw: str | None) -> str:
    text = " ".join((raw or "").split())
    if not text:
        return DEFAULT_SCHEDULE_CRON
    fields = text.split(" ")
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ConfigError(
            f"CALL_LOGS_SCHEDULE_CRON={text!r} is not a cron expression; use five fields "
            "(minute hour day month weekday), e.g. '0 * * * *' for hourly"
        )
    return text


def _parse_endpoint(raw: str | None) -> str | None:
    text = (raw or "").strip().rstrip("/")
    if not text:
        return None
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if has_credentials(text):
        raise ConfigError(
            "CALL_LOGS_S3_ENDPOINT_URL must not carry credentials (<credentials>@host); use "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile or an instance role"
        )
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            f"CALL_LOGS_S3_ENDPOINT_URL={text!r} must look like http://host:port or https://host"
        )
    return text


@dataclass(frozen=True)
class Settings:
    api_url: str
    api_key: Secret = field(repr=False)
    assistant_ids: tuple[str, ...] | None
    data_dir: Path
    start_date: date = DEFAULT_START_DATE
    lookback_hours: int = DEFAULT_LOOKBACK_HOURS
    non_final_max_age_days: int = DEFAULT_NON_FINAL_MAX_AGE_DAYS
    lake_url: str | None = None
    hash_phone_numbers: bool = False
    phone_hash_key: Secret = field(default_factory=lambda: Secret(""), repr=False)
    concurrency: int = 8
    max_requests_per_second: float | None = None
    request_timeout_s: float = 30.0
    retry_budget_s: float = 120.0
    s3_endpoint_url: str | None = None
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    schedule_cron: str = DEFAULT_SCHEDULE_CRON

    @property
    def lake_location(self) -> str:
        return self.lake_url or str(self.data_dir / "lake")

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    def ensure_data_dir(self) -> Path:
        """Create the data directory owner-only (it holds call data and the phone-hash key)."""
        if not self.data_dir.exists():
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.data_dir.chmod(0o700)
        return self.data_dir

    def require_api(self) -> None:
        if not self.api_url:
            raise ConfigError(
                "CALL_LOGS_API_URL is not set; point it at the platform "
                "(or run `calllogs simulate` and use the URL it prints)"
            )
        if not self.api_key:
            raise ConfigError("CALL_LOGS_API_KEY is not set; export the platform's Bearer key")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if env is None else env
        api_url = source.get("CALL_LOGS_API_URL", "").strip().rstrip("/")
        if api_url and not api_url.startswith(("http://", "https://")):
            raise ConfigError(f"CALL_LOGS_API_URL={api_url!r} must start with http:// or https://")
        return cls(
            api_url=api_url,
            api_key=Secret(source.get("CALL_LOGS_API_KEY", "").strip()),
            assistant_ids=_parse_ids(source.get("CALL_LOGS_ASSISTANT_IDS")),
            data_dir=Path(source.get("CALL_LOGS_DATA_DIR", "").strip() or "./data").absolute(),
            start_date=_parse_date(
                "CALL_LOGS_START_DATE", source.get("CALL_LOGS_START_DATE"), DEFAULT_START_DATE
            ),
            lookback_hours=_parse_int(
                "CALL_LOGS_LOOKBACK_HOURS",
                source.get("CALL_LOGS_LOOKBACK_HOURS"),
                DEFAULT_LOOKBACK_HOURS,
            ),
            non_final_max_age_days=_parse_int(
                "CALL_LOGS_NON_FINAL_MAX_AGE_DAYS",
                source.get("CALL_LOGS_NON_FINAL_MAX_AGE_DAYS"),
                DEFAULT_NON_FINAL_MAX_AGE_DAYS,
            ),
            lake_url=_parse_lake_url(source.get("CALL_LOGS_LAKE_URL")),
            hash_phone_numbers=_parse_bool(
                "CALL_LOGS_HASH_PHONE_NUMBERS", source.get("CALL_LOGS_HASH_PHONE_NUMBERS")
            ),
            phone_hash_key=Secret(source.get("CALL_LOGS_PHONE_HASH_KEY", "").strip()),
            concurrency=_parse_int(
                "CALL_LOGS_CONCURRENCY", source.get("CALL_LOGS_CONCURRENCY"), 8, minimum=1
            ),
            retry_budget_s=float(
                _parse_int(
                    "CALL_LOGS_RETRY_BUDGET_SECONDS",
                    source.get("CALL_LOGS_RETRY_BUDGET_SECONDS"),
                    120,
                    minimum=1,
                )
            ),
            max_requests_per_second=_parse_float(
                "CALL_LOGS_MAX_REQUESTS_PER_SECOND",
                source.get("CALL_LOGS_MAX_REQUESTS_PER_SECOND"),
                None,
            ),
            s3_endpoint_url=_parse_endpoint(source.get("CALL_LOGS_S3_ENDPOINT_URL")),
            duckdb_memory_limit=_parse_memory_limit(source.get("CALL_LOGS_DUCKDB_MEMORY_LIMIT")),
            schedule_cron=_parse_cron(source.get("CALL_LOGS_SCHEDULE_CRON")),
        )

    def to_env(self) -> dict[str, str]:
        """Every setting but the secrets as the ``CALL_LOGS_*`` variables that give it back:
        ``Settings.from_env({**s.to_env(), <the two secrets>}) == s``."""
        return {
            "CALL_LOGS_API_URL": self.api_url,
            "CALL_LOGS_ASSISTANT_IDS": ",".join(self.assistant_ids or ()),
            "CALL_LOGS_DATA_DIR": str(self.data_dir),
            "CALL_LOGS_START_DATE": self.start_date.isoformat(),
            "CALL_LOGS_LOOKBACK_HOURS": str(self.lookback_hours),
            "CALL_LOGS_NON_FINAL_MAX_AGE_DAYS": str(self.non_final_max_age_days),
            "CALL_LOGS_LAKE_URL": self.lake_url or "",
            "CALL_LOGS_HASH_PHONE_NUMBERS": "1" if self.hash_phone_numbers else "0",
            "CALL_LOGS_CONCURRENCY": str(self.concurrency),
            "CALL_LOGS_RETRY_BUDGET_SECONDS": str(int(self.retry_budget_s)),
            "CALL_LOGS_MAX_REQUESTS_PER_SECOND": (
                repr(self.max_requests_per_second) if self.max_requests_per_second else ""
            ),
            "CALL_LOGS_S3_ENDPOINT_URL": self.s3_endpoint_url or "",
            "CALL_LOGS_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "CALL_LOGS_SCHEDULE_CRON": self.schedule_cron,
        }

    def lake(self) -> Lake:
        """The lake at ``lake_location`` (object-store credentials from the AWS chain)."""
        from pipeline.lake import Lake  # noqa: PLC0415 - pyarrow only when a lake is used

        return Lake(self.lake_location, s3_endpoint=self.s3_endpoint_url)

    def warehouse(self, *, lock_timeout_s: float = 300.0) -> Warehouse:
        """The warehouse at ``warehouse_path`` with this DuckDB memory limit."""
        from pipeline.warehouse import Warehouse  # noqa: PLC0415 - duckdb only when one is used

        return Warehouse(
            self.warehouse_path,
            lock_timeout_s=lock_timeout_s,
            memory_limit=self.duckdb_memory_limit,
        )
