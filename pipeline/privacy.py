"""Phone numbers kept private: the key behind ``CALL_LOGS_HASH_PHONE_NUMBERS`` and its hasher.

The key is stable per installation and never printed.

Numbers are stored as a keyed HMAC so analysts can still count attempts per number, while the
number cannot be recovered by hashing candidate numbers without the key. The key comes from
``CALL_LOGS_PHONE_HASH_KEY`` or is generated once into ``$CALL_LOGS_DATA_DIR/.phone_hash_key``
(owner-only); keep that file if you want hashes to stay comparable across rebuilds.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import TYPE_CHECKING

import pyarrow as pa

from pipeline.jsontext import dumps_json

if TYPE_CHECKING:
    from pipeline.config import Settings

KEY_FILE_NAME = ".phone_hash_key"


def phone_hash_key(settings: Settings) -> bytes:
    if settings.phone_hash_key:
        return settings.phone_hash_key.reveal().encode()
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = settings.data_dir / KEY_FILE_NAME
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


class PhoneHasher:
    """``h:`` + the first 32 hex digits of HMAC-SHA256(key, number): stable, not reversible."""

    def __init__(self, key: bytes) -> None:
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        self._cache: dict[str, str] = {}

    def hash_text(self, number: str) -> str:
        cached = self._cache.get(number)
        if cached is None:
            digest = self._keyed.copy()
            digest.update(number.encode("utf-8", "surrogatepass"))
            cached = self._cache[number] = "h:" + digest.hexdigest()[:32]
        return cached

    def hash_value(self, value: object) -> object:
        """Hash any JSON value: text and integers as written, anything else as its JSON text."""
        if value is None:
            return None
        if isinstance(value, str):
            return self.hash_text(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return self.hash_text(str(value))
        return self.hash_text(dumps_json(value))

    def hash_column(self, numbers: pa.Array) -> pa.Array:
        return pa.array(
            [None if number is None else self.hash_text(number) for number in numbers.to_pylist()],
            type=pa.string(),
        )
