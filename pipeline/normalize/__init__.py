"""Raw call-log records -> the three lake tables (``pipeline.schemas``), built column-wise in Arrow.

``normalize_records`` never raises on account of the data: every input record ends up exactly once,
either as a row of ``call_logs`` or as a row of ``rejected_logs`` saying why, and every field of a
kept record survives - in its column, in ``extra``, or, when it could not be coerced to its
column's type, in ``extra["_uncoerced"][field]``.

The work reads top-down, each module handing its result to the next:

1. ``triage`` - records: which become calls, which are quarantined and why, in what order;
2. ``columns`` - one field of many records -> one typed Arrow column (plus what would not fit);
3. ``calls`` - the ``call_logs`` table from those columns, with ``extra`` (``extra``) and the
   ``transcripts`` table (``transcripts``) beside it; ``rejected`` - the ``rejected_logs`` table;
4. ``batch`` - the three tables as one ``NormalizedBatch``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from pipeline.normalize.batch import NormalizedBatch
from pipeline.normalize.calls import call_tables
from pipeline.normalize.extra import UNCOERCED_KEY
from pipeline.normalize.rejected import rejected_logs_table
from pipeline.normalize.triage import triage
from pipeline.privacy import PhoneHasher
from pipeline.schemas import CONTRACT_FIELDS, KNOWN_EXTRA_FIELDS, UTC_TS

__all__ = ["UNCOERCED_KEY", "NormalizedBatch", "normalize_records"]


def normalize_records(
    records: Sequence[Mapping[str, Any]],
    *,
    assistant_id: str,
    fallback_day: date,
    fetched_at: datetime,
    phone_hash_key: bytes | None = None,
) -> NormalizedBatch:
    """Normalise one window of one assistant's records; see ``pipeline.normalize.triage``.

    ``fallback_day`` is the ``call_date`` of rejected records without a usable ``started_at``;
    with ``phone_hash_key``, every ``to_number`` (column, ``extra``, rejected ``raw``) is replaced
    by ``h:`` + 32 hex digits of its HMAC-SHA256.
    """
    hasher = PhoneHasher(phone_hash_key) if phone_hash_key is not None else None
    fetched = pa.scalar(_as_utc(fetched_at), type=UTC_TS)
    triaged = triage(records, assistant_id)
    calls = call_tables(triaged, assistant_id, fetched, hasher)
    seen = set(calls.fields_seen)
    for rejection in triaged.rejections:
        if isinstance(rejection.record, dict):
            seen.update(rejection.record)
    return NormalizedBatch(
        call_logs=calls.call_logs,
        transcripts=calls.transcripts,
        rejected_logs=rejected_logs_table(
            triaged.rejections, assistant_id, fallback_day, fetched, hasher
        ),
        new_fields=frozenset(
            str(key) for key in seen if key not in CONTRACT_FIELDS and key not in KNOWN_EXTRA_FIELDS
        ),
    )


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
