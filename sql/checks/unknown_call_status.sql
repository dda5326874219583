-- Statuses outside the documented set (a warning: the platform may have added one).
SELECT coalesce(call_status, '<null>') AS call_status, count(*) AS calls
FROM call_logs
WHERE call_status IS NULL OR call_status NOT IN (
    'initiated', 'answered', 'completed', 'busy', 'no_answer', 'rejected',
    'cancelled', 'unreachable', 'timeout', 'failed'
)
GROUP BY ALL
ORDER BY calls DESC
LIMIT 20;
