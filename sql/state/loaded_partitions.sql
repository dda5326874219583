-- The given partitions the warehouse already holds, with when each was read from the API
-- (sync_state.extracted_at) and its rows: a load of the same lake version can leave them be.
-- Reads the Arrow table `wanted_partitions` (call_date, assistant_id).
WITH wanted AS (
    SELECT DISTINCT call_date, assistant_id FROM wanted_partitions
),
calls AS (
    SELECT c.call_date, c.assistant_id, count(*) AS n
    FROM call_logs AS c JOIN wanted USING (call_date, assistant_id)
    GROUP BY ALL
),
utterances AS (
    SELECT t.call_date, t.assistant_id, count(*) AS n
    FROM transcripts AS t JOIN wanted USING (call_date, assistant_id)
    GROUP BY ALL
),
rejected AS (
    SELECT r.call_date, r.assistant_id, count(*) AS n
    FROM rejected_logs AS r JOIN wanted USING (call_date, assistant_id)
    GROUP BY ALL
)
SELECT
    s.call_date,
    s.assistant_id,
    s.extracted_at,
    coalesce(calls.n, 0) AS calls,
    coalesce(utterances.n, 0) AS utterances,
    coalesce(rejected.n, 0) AS rejected
FROM sync_state AS s
JOIN wanted USING (call_date, assistant_id)
LEFT JOIN calls USING (call_date, assistant_id)
LEFT JOIN utterances USING (call_date, assistant_id)
LEFT JOIN rejected USING (call_date, assistant_id)
