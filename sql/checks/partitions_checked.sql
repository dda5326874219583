-- How many (assistant, day) pairs were expected, how many calls the API counted for them, and how
-- many of those calls it never serves (recorded in unreadable_windows).
SELECT
    count(*) AS partitions,
    coalesce(sum(s.api_total), 0) AS api_total,
    coalesce(sum(s.unreadable_calls), 0) AS unreadable_calls
FROM checked_partitions AS e
LEFT JOIN sync_status AS s USING (call_date, assistant_id);
