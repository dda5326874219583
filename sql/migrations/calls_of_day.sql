-- One day's calls with their extra as JSON text, for pipeline/normalize/promote.py.
SELECT room_name, CAST(extra AS VARCHAR) AS extra
FROM call_logs
WHERE call_date = $day;
