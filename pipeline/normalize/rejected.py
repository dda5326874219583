"""The ``rejected_logs`` table: every quarantined record, why, and its raw JSON."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from pipeline.jsontext import dumps_json
from pipeline.normalize.triage import Rejection
from pipeline.privacy import PhoneHasher
from pipeline.schemas import REJECTED_LOGS_SCHEMA


def rejected_logs_table(
    rejections: list[Rejection],
    assistant_id: str,
    fallback_day: date,
    fetched: pa.Scalar,
    hasher: PhoneHasher | None,
) -> pa.Table:
    count = len(rejections)
    raws = [dumps_json(_hide_number(rejection.record, hasher)) for rejection in rejections]
    return pa.Table.from_arrays(
        [
            pa.repeat(pa.scalar(assistant_id, type=pa.string()), count),
            pa.array(
                [rejection.call_date or fallback_day for rejection in rejections], pa.date32()
            ),
            pa.array([rejection.reason for rejection in rejections], type=pa.string()),
            pa.array(raws, type=pa.string()),
            pa.repeat(fetched, count),
        ],
        schema=REJECTED_LOGS_SCHEMA,
    )


def _hide_number(record: object, hasher: PhoneHasher | None) -> object:
    if hasher is None or not isinstance(record, dict) or "to_number" not in record:
        return record
    return {**record, "to_number": hasher.hash_value(record["to_number"])}
