-- call_end_reasons: one row per (call_date, assistant_id, call_end_reason) over the calls of the
-- affected partitions that have a reason (call_end_reason not NULL).
--
--   calls            calls of that day and assistant with that reason
--   share_of_calls   calls / the calls of that day and assistant that have a reason
INSERT INTO call_end_reasons (call_date, assistant_id, call_end_reason, calls, share_of_calls)
WITH reason_counts AS (
    SELECT c.call_date, c.assistant_id, c.call_end_reason, count(*) AS calls
    FROM call_logs AS c
    SEMI JOIN affected_partitions AS a
        ON c.call_date = a.call_date AND c.assistant_id = a.assistant_id
    WHERE c.call_end_reason IS NOT NULL
    GROUP BY c.call_date, c.assistant_id, c.call_end_reason
)
SELECT
    call_date,
    assistant_id,
    call_end_reason,
    calls,
    calls / sum(calls) OVER (PARTITION BY call_date, assistant_id) AS share_of_calls
FROM reason_counts;
