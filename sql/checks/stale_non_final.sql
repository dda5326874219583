-- Failing rows: calls of the checked partitions still initiated/answered long after they started
-- (the platform may have lost them).
SELECT c.room_name, c.assistant_id, c.call_status, c.started_at
FROM call_logs AS c
SEMI JOIN checked_partitions AS p
    ON p.call_date = c.call_date AND p.assistant_id = c.assistant_id
WHERE NOT c.is_final AND c.started_at < $older_than
ORDER BY c.started_at
LIMIT 20;
