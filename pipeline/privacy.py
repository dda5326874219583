"""The key behind ``CALL_LOGS_HASH_PHONE_NUMBERS``: stable per installation, never printed.

Numbers are stored as a keyed HMAC so analysts can still count attempts per number, while the
number cannot be recovered by hashing candidate numbers without the key. The key comes from
``CALL_LOGS_PHONE_HASH_KEY`` or is generated once into ``$CALL_LOGS_DATA_DIR/.phone_hash_key``
(owner-only); keep that file if you want hashes to stay comparable across rebuilds.
"""

from __future__ import annotations

import os
import secrets

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
