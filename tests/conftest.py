"""Fixtures shared across test folders: a real S3-compatible server (moto) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.s3_server import moto_s3, new_bucket, use_s3


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
