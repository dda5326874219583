-- (assistant, day) pairs of checked_partitions (what the run was asked for) that are not synced
-- exactly: never synced, failed on their latest attempt, or holding another number of rows than
-- the API's verified total. A call the API counted is either in call_logs, in rejected_logs, or
-- recorded in unreadable_windows (the API counts it but never serves it; the calls_readable
-- check fails for those) — never silently missing.
WITH stored AS (
    SELECT call_date, assistant_id, count(*) AS rows_stored FROM (
        SELECT c.call_date, c.assistant_id FROM call_logs AS c
        SEMI JOIN checked_partitions AS e USING (call_date, assistant_id)
        UNION ALL
        SELECT r.call_date, r.assistant_id FROM rejected_logs AS r
        SEMI JOIN checked_partitions AS e USING (call_date, assistant_id)
    ) GROUP BY ALL
)
SELECT
    e.call_date,
    e.assistant_id,
    st.api_total,
    coalesce(t.rows_stored, 0) AS rows_stored,
    coalesce(st.unreadable_calls, 0) AS unreadable_calls,
    CASE
        WHEN st.status = 'failed' THEN 'failed: ' || st.error
        WHEN st.api_total IS NULL THEN 'never synced'
        ELSE 'stored rows differ from the API total'
    END AS problem
FROM checked_partitions AS e
LEFT JOIN sync_status AS st USING (call_date, assistant_id)
LEFT JOIN stored AS t USING (call_date, assistant_id)
WHERE coalesce(st.status, 'never synced') NOT IN ('synced', 'unreadable')
   OR st.api_total IS NULL
   OR st.api_total <> coalesce(t.rows_stored, 0) + coalesce(st.unreadable_calls, 0)
ORDER BY e.call_date, e.assistant_id;
