-- How many synced partitions and API-counted calls fall in [$start_day, $end_day).
SELECT count(*) AS partitions, coalesce(sum(api_total), 0) AS api_total
FROM sync_state
WHERE call_date >= $start_day AND call_date < $end_day;
