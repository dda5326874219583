-- Days that still hold a call whose status can change (initiated/answered), not older than $since.
SELECT DISTINCT call_date
FROM call_logs
WHERE NOT is_final AND call_date >= $since
ORDER BY call_date;
