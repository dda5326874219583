"""Text that is always valid Unicode, and JSON text that can always be written.

Records come from a JSON decoder that may be lenient (lone surrogates) and from Python callers
that may hand over anything (integers beyond 64 bits, non-text keys, deep nesting): what is stored
as text or JSON must still be written, never refused.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from typing import Final

import orjson

_MAX_JSON_DEPTH: Final = 200


def clean_text(value: str) -> str:
    """``value`` as valid Unicode: surrogate pairs joined, lone surrogates replaced by U+FFFD."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def dumps_json(value: object) -> str:
    """Compact JSON with sorted keys; never raises.

    orjson takes almost everything (unknown objects via ``str``). What it refuses - integers
    beyond 64 bits, non-string keys, lone surrogates, nesting deeper than 255 - is first reduced
    to plain JSON values (keys and unknown objects as text, non-finite floats as null, as orjson
    writes them) and written by the standard library.
    """
    try:
        # decode at once: orjson's bytes keep a page-sized buffer, and 100k of them fault in
        # hundreds of megabytes
        return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, ValueError, RecursionError):
        pass
    plain = _plain_json(value, _MAX_JSON_DEPTH)
    return json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _plain_json(value: object, depth: int) -> object:  # noqa: PLR0911 - one case per JSON type
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return clean_text(value)
    if depth <= 0:
        return "<nested too deeply>"
    if isinstance(value, dict):
        return {_key_text(key): _plain_json(item, depth - 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(item, depth - 1) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()  # as orjson writes them
    try:
        return clean_text(str(value))
    except Exception:  # an object whose __str__ fails must not stop the batch
        return f"<unprintable {type(value).__name__}>"


def _key_text(key: object) -> str:
    if isinstance(key, str):
        return clean_text(key)
    plain = _plain_json(key, 1)
    return plain if isinstance(plain, str) else json.dumps(plain)
