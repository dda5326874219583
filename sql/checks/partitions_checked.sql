-- How many (assistant, day) pairs were expected and how many calls the API counted for them.
SELECT count(*) AS partitions, coalesce(sum(s.api_total), 0) AS api_total
FROM checked_partitions AS e
LEFT JOIN sync_state AS s USING (call_date, assistant_id);
