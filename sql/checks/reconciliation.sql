-- Partitions in [$start_day, $end_day) whose stored rows differ from the API's verified total.
-- A call the API counted is either in call_logs or quarantined in rejected_logs.
WITH stored AS (
    SELECT call_date, assistant_id, count(*) AS rows_stored FROM (
        SELECT call_date, assistant_id FROM call_logs
        WHERE call_date >= $start_day AND call_date < $end_day
        UNION ALL
        SELECT call_date, assistant_id FROM rejected_logs
        WHERE call_date >= $start_day AND call_date < $end_day
    ) GROUP BY ALL
)
SELECT s.call_date, s.assistant_id, s.api_total, coalesce(t.rows_stored, 0) AS rows_stored
FROM sync_state AS s
LEFT JOIN stored AS t USING (call_date, assistant_id)
WHERE s.call_date >= $start_day AND s.call_date < $end_day
  AND s.api_total <> coalesce(t.rows_stored, 0)
ORDER BY s.call_date, s.assistant_id
LIMIT 50;
