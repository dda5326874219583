"""Secrets never reach a message: masked wherever they appear, refused inside URLs."""

from __future__ import annotations

import pytest

from pipeline.redaction import MASK, has_credentials, redact


def test_every_occurrence_of_every_secret_is_masked() -> None:
    text = "key sk-123 failed; retried with sk-123 and token t0ken-xyz"
    assert (
        redact(text, "sk-123", "t0ken-xyz")
        == f"key {MASK} failed; retried with {MASK} and token {MASK}"
    )


def test_empty_and_short_secrets() -> None:
    assert redact("nothing to hide", None, "", "  ") == "nothing to hide"
    assert redact("a key of ab", "ab") == f"a key of {MASK}"  # the API key: whatever its length
    assert redact("a key of ab", "ab", min_chars=4) == "a key of ab"  # an env value: too short


@pytest.mark.parametrize(
    ("url", "carries"),
    [
        ("s3://AKIA:secret@bucket/prefix", True),
        ("https://user@example.com", True),
        ("user:pw@minio:9000", True),
        ("s3://bucket/prefix/with@sign", False),
        ("https://api.example.com", False),
        ("minio:9000", False),
        ("/var/data/lake", False),
    ],
)
def test_credentials_in_a_url_are_found_before_the_host_only(url: str, carries: bool) -> None:
    assert has_credentials(url) is carries
