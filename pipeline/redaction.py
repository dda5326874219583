"""Keeping secrets out of text: the one place that blanks them and refuses URLs that carry them.

Every message that may echo something a server or a library said (an API error body, a pyarrow
exception naming a URL) passes through :func:`redact` before a person or a log sees it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MASK = "***"


def redact(text: str, *secrets: str | None, min_chars: int = 1) -> str:
    """``text`` with every secret of at least ``min_chars`` characters replaced by MASK.

    ``min_chars`` guards secrets read from the environment, where a one-letter value would blank
    ordinary words; the API key is masked whatever its length.
    """
    for secret in secrets:
        value = (secret or "").strip()
        if value and len(value) >= min_chars:
            text = text.replace(value, MASK)
    return text


def has_credentials(url: str) -> bool:
    """Whether ``url`` carries ``user[:password]@`` before its host (``s3://key:secret@bucket``)."""
    return "@" in urlsplit(url if "://" in url else f"//{url}").netloc
