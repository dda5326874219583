-- `calllogs report`: one row per assistant with calls in [$first_day, $last_day] (inclusive), named
-- as /assistant/list last named it, else as its latest call did; and its totals over those days.
WITH latest_call_name AS (
    SELECT assistant_id, arg_max(assistant_name, started_at) AS assistant_name
    FROM call_logs
    WHERE assistant_name IS NOT NULL
    GROUP BY assistant_id
)

SELECT
    m.assistant_id,
    coalesce(a.assistant_name, n.assistant_name) AS assistant_name,
    CAST(sum(m.calls) AS BIGINT) AS calls,
    CAST(sum(m.answered_calls) AS BIGINT) AS answered_calls,
    CAST(sum(m.outbound_calls) AS BIGINT) AS outbound_calls,
    CAST(sum(m.outbound_answered_calls) AS BIGINT) AS outbound_answered_calls,
    CAST(sum(m.sip_failure_calls) AS BIGINT) AS sip_failure_calls,
    CAST(sum(m.agent_never_ready_calls) AS BIGINT) AS agent_never_ready_calls,
    CAST(sum(m.billable_minutes) AS BIGINT) AS billable_minutes
FROM daily_assistant_metrics AS m
LEFT JOIN assistants AS a ON a.assistant_id = m.assistant_id
LEFT JOIN latest_call_name AS n ON n.assistant_id = m.assistant_id
WHERE m.call_date BETWEEN $first_day AND $last_day
GROUP BY m.assistant_id, coalesce(a.assistant_name, n.assistant_name)
ORDER BY assistant_name NULLS LAST, m.assistant_id;
