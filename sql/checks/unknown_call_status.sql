-- Failing rows: statuses outside the documented set among the checked partitions (a warning: the
-- platform may have added one). checked_partitions is the run's (call_date, assistant_id) pairs.
SELECT coalesce(c.call_status, '<null>') AS call_status, count(*) AS calls
FROM call_logs AS c
SEMI JOIN checked_partitions AS p
    ON p.call_date = c.call_date AND p.assistant_id = c.assistant_id
WHERE c.call_status IS NULL OR c.call_status NOT IN (
    'initiated', 'answered', 'completed', 'busy', 'no_answer', 'rejected',
    'cancelled', 'unreachable', 'timeout', 'failed'
)
GROUP BY ALL
ORDER BY calls DESC
LIMIT 20;
