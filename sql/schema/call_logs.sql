-- call_logs: one row per call (room_name), the latest version the API returned.
-- Replaced a whole (call_date, assistant_id) partition at a time by sql/load/*.
-- call_date is the UTC day of started_at; is_final is true once call_status is terminal;
-- extra keeps every field of the record that has no column here, so nothing is lost.
-- fetched_at is when this version of the call was first fetched (see
-- sql/load/unchanged_calls.sql). The columns after it were kept in extra before wave 2; older
-- warehouses gain them, filled from extra, through pipeline/migrations.py.
CREATE TABLE IF NOT EXISTS call_logs (
    room_name                 VARCHAR     NOT NULL PRIMARY KEY,
    assistant_id              VARCHAR     NOT NULL,
    assistant_name            VARCHAR,
    to_number                 VARCHAR,
    call_status               VARCHAR,
    call_status_reason        VARCHAR,
    sip_status_code           INTEGER,
    sip_status_text           VARCHAR,
    started_at                TIMESTAMPTZ NOT NULL,
    answered_at               TIMESTAMPTZ,
    ended_at                  TIMESTAMPTZ,
    call_duration_minutes     DOUBLE,
    billable_duration_minutes INTEGER,
    recording_path            VARCHAR,
    call_date                 DATE        NOT NULL,
    is_final                  BOOLEAN     NOT NULL,
    transcript_turns          INTEGER     NOT NULL,
    extra                     JSON,
    fetched_at                TIMESTAMPTZ NOT NULL,
    call_type                 VARCHAR,
    call_service              VARCHAR,
    call_end_reason           VARCHAR,
    agent_ready_at            TIMESTAMPTZ,
    queue_id                  VARCHAR,
    platform_number           VARCHAR,
    is_passthrough            BOOLEAN
);
