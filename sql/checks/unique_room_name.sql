-- Failing rows: room_names stored more than once (call_logs must hold one row per call).
SELECT room_name, count(*) AS copies
FROM call_logs
GROUP BY room_name
HAVING count(*) > 1
ORDER BY copies DESC, room_name
LIMIT 20;
