-- `calllogs report`: calls per assistant and end reason over [$first_day, $last_day], with each
-- reason's share of that assistant's calls that have a reason.
SELECT
    assistant_id,
    call_end_reason,
    CAST(sum(calls) AS BIGINT) AS calls,
    sum(calls) / sum(sum(calls)) OVER (PARTITION BY assistant_id) AS share_of_calls
FROM call_end_reasons
WHERE call_date BETWEEN $first_day AND $last_day
GROUP BY assistant_id, call_end_reason
ORDER BY assistant_id, calls DESC, call_end_reason;
