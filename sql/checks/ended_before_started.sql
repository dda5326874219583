-- Failing rows: calls of the checked partitions that end before they start.
SELECT c.room_name, c.started_at, c.ended_at
FROM call_logs AS c
SEMI JOIN checked_partitions AS p
    ON p.call_date = c.call_date AND p.assistant_id = c.assistant_id
WHERE c.ended_at < c.started_at
ORDER BY c.room_name
LIMIT 20;
