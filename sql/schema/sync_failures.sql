-- sync_failures: one row per (assistant_id, call_date) whose latest sync attempt failed.
-- error_kind  not_found | not_converged | unavailable | api_error
-- error       one line: what happened (never the API key)
-- failed_at   when the attempt gave up; run_id the Dagster run that tried
-- A row is removed when a later attempt syncs the day (its extraction newer than failed_at).
CREATE TABLE IF NOT EXISTS sync_failures (
    assistant_id VARCHAR     NOT NULL,
    call_date    DATE        NOT NULL,
    error_kind   VARCHAR     NOT NULL,
    error        VARCHAR     NOT NULL,
    failed_at    TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR,
    PRIMARY KEY (assistant_id, call_date)
);
