"""Shared across test folders: hypothesis profiles, and a real S3-compatible server (moto)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.s3_server import moto_s3, new_bucket, use_s3

# Property tests: quick where people run them, thorough in CI (.ci/run sets the profile).
_PROPERTY_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("quick", max_examples=50, **_PROPERTY_SETTINGS)  # type: ignore[arg-type]
settings.register_profile("thorough", max_examples=600, **_PROPERTY_SETTINGS)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 for the module; stopped with it."""
    with moto_s3() as url:
        yield url


@pytest.fixture
def bucket(endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A fresh bucket, with this test's environment pointed at the server."""
    use_s3(monkeypatch, endpoint, tmp_path)
    return new_bucket(endpoint)
