-- Calls still initiated/answered long after they started: the platform may have lost them.
SELECT room_name, assistant_id, call_status, started_at
FROM call_logs
WHERE NOT is_final AND started_at < $older_than
ORDER BY started_at
LIMIT 20;
