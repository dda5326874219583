-- call_end_reasons: one row per (call_date, assistant_id, call_end_reason) over the calls that have
-- a reason. Definitions live with the statement that computes them: sql/metrics/call_end_reasons.sql.
CREATE TABLE IF NOT EXISTS call_end_reasons (
    call_date       DATE    NOT NULL,
    assistant_id    VARCHAR NOT NULL,
    call_end_reason VARCHAR NOT NULL,
    calls           BIGINT  NOT NULL,
    share_of_calls  DOUBLE  NOT NULL,
    PRIMARY KEY (call_date, assistant_id, call_end_reason)
);
