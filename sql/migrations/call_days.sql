-- The days call_logs holds, oldest first: a migration rewrites them one at a time.
SELECT DISTINCT call_date FROM call_logs ORDER BY call_date;
