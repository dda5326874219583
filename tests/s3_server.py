"""A real S3-compatible HTTP server (moto) on loopback, and the environment that points at it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow.fs as pafs
import pytest
from moto.server import ThreadedMotoServer

# Test credentials: moto accepts any. Distinctive, so a test can prove they never leak.
ACCESS_KEY_ID = "AKIATESTLAKE0000KEY1"
SECRET_ACCESS_KEY = "lake-test-SECRET-5e9a1c7b3d2f4e6a8b0c"
REGION = "us-east-1"


@contextmanager
def moto_s3() -> Iterator[str]:
    """Serve S3 on 127.0.0.1 at a free port for the duration; yields the endpoint URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def use_s3(monkeypatch: pytest.MonkeyPatch, endpoint: str, home: Path) -> None:
    """The process environment a deployment would set, hermetic (no profile, no IMDS)."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)  # what a Lake built without Settings uses
    monkeypatch.setenv("CALL_LOGS_S3_ENDPOINT_URL", endpoint)  # what Settings pass to the Lake


def admin_fs(endpoint: str) -> pafs.S3FileSystem:
    """A filesystem on the test server that may create buckets (the lake never does)."""
    scheme, host = endpoint.split("://", 1)
    return pafs.S3FileSystem(
        endpoint_override=host, scheme=scheme, region=REGION, allow_bucket_creation=True
    )


def new_bucket(endpoint: str) -> str:
    """A fresh, empty bucket (server state is process-wide, so each test takes its own)."""
    name = f"lake-{uuid.uuid4().hex[:16]}"
    admin_fs(endpoint).create_dir(name)
    return name


def objects(endpoint: str, bucket: str) -> list[str]:
    """Every object key in the bucket (directory entries pyarrow synthesises left out)."""
    infos = admin_fs(endpoint).get_file_info(pafs.FileSelector(bucket, recursive=True))
    return sorted(info.path[len(bucket) + 1 :] for info in infos if info.type == pafs.FileType.File)
