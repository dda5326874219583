-- Failing rows: calls missing a key column.
SELECT room_name, assistant_id, call_date, started_at
FROM call_logs
WHERE room_name IS NULL OR assistant_id IS NULL OR call_date IS NULL OR started_at IS NULL
LIMIT 20;
