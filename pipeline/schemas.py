"""Arrow schemas of the lake tables: the single definition every stage agrees on.

Column names and meanings follow ``shared/docs/contract.md``. Timestamps are UTC at microsecond
precision; ``extra`` and ``raw`` hold JSON text so nothing the API sends is ever lost.
"""

from __future__ import annotations

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")

CALL_LOGS_SCHEMA = pa.schema(
    [
        pa.field("room_name", pa.string(), nullable=False),
        pa.field("assistant_id", pa.string(), nullable=False),
        pa.field("assistant_name", pa.string()),
        pa.field("to_number", pa.string()),
        pa.field("call_status", pa.string()),
        pa.field("call_status_reason", pa.string()),
        pa.field("sip_status_code", pa.int32()),
        pa.field("sip_status_text", pa.string()),
        pa.field("started_at", UTC_TS, nullable=False),
        pa.field("answered_at", UTC_TS),
        pa.field("ended_at", UTC_TS),
        pa.field("call_duration_minutes", pa.float64()),
        pa.field("billable_duration_minutes", pa.int32()),
        pa.field("recording_path", pa.string()),
        pa.field("call_date", pa.date32(), nullable=False),
        pa.field("is_final", pa.bool_(), nullable=False),
        pa.field("transcript_turns", pa.int32(), nullable=False),
        pa.field("extra", pa.string()),  # JSON object of every field without a column
        pa.field("fetched_at", UTC_TS, nullable=False),
        # Sent beyond the documentation and typed since wave 2 (kept last: older warehouses gain
        # them with ADD COLUMN, which appends)
        pa.field("call_type", pa.string()),  # outbound | inbound | web
        pa.field("call_service", pa.string()),  # exotel | twilio | web
        pa.field("call_end_reason", pa.string()),
        pa.field("agent_ready_at", UTC_TS),  # when the agent really started in the room
        pa.field("queue_id", pa.string()),
        pa.field("platform_number", pa.string()),
        pa.field("is_passthrough", pa.bool_()),
    ]
)

# Fields that lived in ``extra`` before they had a column: older lake files and warehouses hold
# them there and are promoted on read (``pipeline.normalize.promote``).
PROMOTED_FIELDS: tuple[str, ...] = (
    "call_type",
    "call_service",
    "call_end_reason",
    "agent_ready_at",
    "queue_id",
    "platform_number",
    "is_passthrough",
)

TRANSCRIPTS_SCHEMA = pa.schema(
    [
        pa.field("room_name", pa.string(), nullable=False),
        pa.field("call_date", pa.date32(), nullable=False),
        pa.field("assistant_id", pa.string(), nullable=False),
        pa.field("turn_index", pa.int32(), nullable=False),
        pa.field("speaker", pa.string()),
        pa.field("role", pa.string(), nullable=False),
        pa.field("text", pa.string()),
        pa.field("spoken_at", UTC_TS),
    ]
)

REJECTED_LOGS_SCHEMA = pa.schema(
    [
        pa.field("assistant_id", pa.string(), nullable=False),
        pa.field("call_date", pa.date32(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw", pa.string(), nullable=False),  # the record exactly as received, as JSON
        pa.field("fetched_at", UTC_TS, nullable=False),
    ]
)

LAKE_TABLES: dict[str, pa.Schema] = {
    "call_logs": CALL_LOGS_SCHEMA,
    "transcripts": TRANSCRIPTS_SCHEMA,
    "rejected_logs": REJECTED_LOGS_SCHEMA,
}

# Fields of a call record that have a column of their own; everything else goes to ``extra``.
CONTRACT_FIELDS: frozenset[str] = frozenset(
    {
        "room_name",
        "assistant_id",
        "assistant_name",
        "to_number",
        "call_status",
        "call_status_reason",
        "sip_status_code",
        "sip_status_text",
        "started_at",
        "answered_at",
        "ended_at",
        "call_duration_minutes",
        "billable_duration_minutes",
        "recording_path",
        "transcripts",
        *PROMOTED_FIELDS,
    }
)

# Fields the platform is known to send beyond its documentation (api-behaviour.md). Seeing any
# other field is schema drift: reported, never an error.
KNOWN_EXTRA_FIELDS: frozenset[str] = frozenset(
    {
        "recording_egress_id",
        "created_by_email",
        "usage",
    }
)

FINAL_STATUSES: frozenset[str] = frozenset(
    {"completed", "busy", "no_answer", "rejected", "cancelled", "unreachable", "timeout", "failed"}
)
NON_FINAL_STATUSES: frozenset[str] = frozenset({"initiated", "answered"})
KNOWN_STATUSES: frozenset[str] = FINAL_STATUSES | NON_FINAL_STATUSES

# One row per synced (day, assistant) partition: what the extraction verified against the API.
# Written to the lake beside the data so the warehouse load needs nothing but the lake.
SYNC_WINDOWS_SCHEMA = pa.schema(
    [
        pa.field("assistant_id", pa.string(), nullable=False),
        pa.field("call_date", pa.date32(), nullable=False),
        pa.field("window_end", UTC_TS, nullable=False),
        pa.field("api_total", pa.int64(), nullable=False),
        pa.field("verified_calls", pa.int64(), nullable=False),
        pa.field("requests", pa.int64(), nullable=False),
        pa.field("synced_at", UTC_TS, nullable=False),
    ]
)
LAKE_TABLES["sync_windows"] = SYNC_WINDOWS_SCHEMA

# The parts of one (day, assistant) partition the API counts but answers a deterministic error
# for (see ``pipeline.isolate``); written with every partition (empty when none), so a read that
# succeeds clears them.
UNREADABLE_WINDOWS_SCHEMA = pa.schema(
    [
        pa.field("assistant_id", pa.string(), nullable=False),
        pa.field("call_date", pa.date32(), nullable=False),
        pa.field("window_start", UTC_TS, nullable=False),
        pa.field("window_end", UTC_TS, nullable=False),
        pa.field("api_count", pa.int64(), nullable=False),
        pa.field("error", pa.string(), nullable=False),
        pa.field("seen_at", UTC_TS, nullable=False),
    ]
)
LAKE_TABLES["unreadable_windows"] = UNREADABLE_WINDOWS_SCHEMA
