-- (assistant, day) pairs that still hold a call whose status can change (initiated/answered),
-- not older than $since: each assistant re-reads its own such days.
SELECT DISTINCT assistant_id, call_date
FROM call_logs
WHERE NOT is_final AND call_date >= $since
ORDER BY assistant_id, call_date;
