"""The pipeline's settings as a Dagster resource: :class:`pipeline.config.Settings`, wrapped.

The definitions build it from the settings they loaded: every setting but the secrets travels as
``settings_env`` (the ``CALL_LOGS_*`` values the model reads back, shown in the UI), and the API
key and the phone-hash key as ``dg.EnvVar``s — resolved in the run's own process, never shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from pipeline.client import CallLogsClient, make_client
from pipeline.config import Settings
from pipeline.lake import Lake
from pipeline.warehouse import Warehouse

API_KEY_ENV = "CALL_LOGS_API_KEY"
PHONE_HASH_KEY_ENV = "CALL_LOGS_PHONE_HASH_KEY"


class CallLogsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Builds the API client, the lake and the warehouse from one :class:`Settings`."""

    api_key: str = ""
    phone_hash_key: str = ""
    settings_env: dict[str, str] = {}  # noqa: RUF012 - pydantic copies a field's default

    @classmethod
    def from_settings(
        cls, settings: Settings, *, secrets_from_env: bool = False
    ) -> CallLogsResource:
        """``secrets_from_env``: pass the keys as EnvVars (the code location) instead of values."""
        if secrets_from_env:
            api_key: str = _env_var(API_KEY_ENV)
            phone_hash_key: str = _env_var(PHONE_HASH_KEY_ENV)
        else:
            api_key, phone_hash_key = settings.api_key.reveal(), settings.phone_hash_key.reveal()
        return cls(api_key=api_key, phone_hash_key=phone_hash_key, settings_env=settings.to_env())

    @classmethod
    def for_environment(cls, env: Mapping[str, str]) -> CallLogsResource:
        """A resource from ``CALL_LOGS_*`` values (tests, scripts), validated like the CLI's."""
        return cls.from_settings(Settings.from_env(env))

    def settings(self) -> Settings:
        return Settings.from_env(
            {
                **self.settings_env,
                API_KEY_ENV: self.api_key,
                PHONE_HASH_KEY_ENV: self.phone_hash_key,
            }
        )

    def client(self) -> CallLogsClient:
        return make_client(self.settings())

    def lake(self) -> Lake:
        return self.settings().lake()

    def warehouse(self) -> Warehouse:
        return self.settings().warehouse()


def _env_var(name: str) -> str:
    # An EnvVar of an unset variable fails the run before it starts; an empty key instead fails
    # in the sync with the one line that says which variable to set.
    return dg.EnvVar(name) if os.environ.get(name) else ""
