-- rejected_logs: records of a (call_date, assistant_id) window that could not be normalised,
-- kept exactly as received (raw) with the reason, so they can be inspected and replayed.
-- fetched_at is when this version of the record was first fetched (see
-- sql/load/unchanged_rejected_logs.sql).
CREATE TABLE IF NOT EXISTS rejected_logs (
    assistant_id VARCHAR     NOT NULL,
    call_date    DATE        NOT NULL,
    reason       VARCHAR     NOT NULL,
    raw          JSON        NOT NULL,
    fetched_at   TIMESTAMPTZ NOT NULL
);
