-- sync_status: which (assistant, day) is synced, up to when, and which failed (and why).
-- A day is 'failed' when its latest attempt failed after the data the warehouse holds was read;
-- a failed day that was synced before keeps showing what it was synced up to.
CREATE OR REPLACE VIEW sync_status AS
SELECT
    coalesce(s.assistant_id, f.assistant_id) AS assistant_id,
    coalesce(s.call_date, f.call_date) AS call_date,
    CASE
        WHEN f.assistant_id IS NOT NULL
             AND (s.extracted_at IS NULL OR f.failed_at > s.extracted_at) THEN 'failed'
        ELSE 'synced'
    END AS status,
    s.window_end AS synced_until,
    s.api_total,
    s.verified_calls,
    s.synced_at,
    f.error_kind,
    f.error,
    f.failed_at,
    f.run_id AS failed_run_id
FROM sync_state AS s
FULL OUTER JOIN sync_failures AS f
    ON f.assistant_id = s.assistant_id AND f.call_date = s.call_date;
