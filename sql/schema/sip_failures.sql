-- sip_failures: one row per (call_date, assistant_id, sip_status_code) with a code >= 400.
-- Definitions live with the statement that computes them: sql/metrics/sip_failures.sql.
CREATE TABLE IF NOT EXISTS sip_failures (
    call_date       DATE    NOT NULL,
    assistant_id    VARCHAR NOT NULL,
    sip_status_code INTEGER NOT NULL,
    sip_status_text VARCHAR,
    sip_class       INTEGER NOT NULL,
    calls           BIGINT  NOT NULL,
    share_of_calls  DOUBLE  NOT NULL,
    PRIMARY KEY (call_date, assistant_id, sip_status_code)
);
