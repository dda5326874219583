-- call_status_history: one row per (room_name, call_status) a sync has seen, with when it was first
-- and last seen (the fetched_at of the syncs that read the call in that status). Merged, never
-- rebuilt: sql/metrics/call_status_history.sql.
CREATE TABLE IF NOT EXISTS call_status_history (
    room_name     VARCHAR     NOT NULL,
    call_status   VARCHAR     NOT NULL,
    assistant_id  VARCHAR     NOT NULL,
    call_date     DATE        NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (room_name, call_status)
);
