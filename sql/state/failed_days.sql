-- (assistant, day) pairs whose latest attempt failed: the next sync retries exactly these.
SELECT assistant_id, call_date
FROM sync_status
WHERE status = 'failed'
ORDER BY assistant_id, call_date;
