-- sync_status: which (assistant, day) is synced, up to when, and which failed (and why).
-- A day is 'failed' when its latest attempt failed after the data the warehouse holds was read;
-- a failed day that was synced before keeps showing what it was synced up to. A day is
-- 'unreadable' when it is synced except for calls the API counts but never serves
-- (unreadable_calls of them, in unreadable_windows): the next sync reads it again.
CREATE OR REPLACE VIEW sync_status AS
WITH unreadable AS (
    SELECT assistant_id, CAST(window_start AS DATE) AS call_date, sum(api_count) AS calls
    FROM unreadable_windows
    GROUP BY ALL
)
SELECT
    coalesce(s.assistant_id, f.assistant_id) AS assistant_id,
    coalesce(s.call_date, f.call_date) AS call_date,
    CASE
        WHEN f.assistant_id IS NOT NULL
             AND (s.extracted_at IS NULL OR f.failed_at > s.extracted_at) THEN 'failed'
        WHEN u.calls > 0 THEN 'unreadable'
        ELSE 'synced'
    END AS status,
    s.window_end AS synced_until,
    s.api_total,
    s.verified_calls,
    s.synced_at,
    f.error_kind,
    f.error,
    f.failed_at,
    f.run_id AS failed_run_id,
    coalesce(u.calls, 0)::BIGINT AS unreadable_calls
FROM sync_state AS s
FULL OUTER JOIN sync_failures AS f
    ON f.assistant_id = s.assistant_id AND f.call_date = s.call_date
LEFT JOIN unreadable AS u
    ON u.assistant_id = coalesce(s.assistant_id, f.assistant_id)
   AND u.call_date = coalesce(s.call_date, f.call_date);
