-- Failing rows: a call cannot end before it starts.
SELECT room_name, started_at, ended_at
FROM call_logs
WHERE ended_at < started_at
ORDER BY room_name
LIMIT 20;
