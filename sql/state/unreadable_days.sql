-- (assistant, day) pairs holding calls the API counts but never served: the next sync reads them
-- again, and a part that reads then leaves unreadable_windows.
SELECT DISTINCT assistant_id, CAST(window_start AS DATE) AS call_date
FROM unreadable_windows
ORDER BY assistant_id, call_date;
