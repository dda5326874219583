-- Per day in [$start_day, $end_day), all assistants together: the numbers plotted in Dagster.
SELECT
    call_date,
    sum(calls) AS calls,
    sum(answered_calls) AS answered_calls,
    CASE WHEN sum(calls) > 0 THEN sum(answered_calls) / sum(calls) END AS answer_rate,
    sum(sip_failure_calls) AS sip_failure_calls,
    sum(in_progress_calls) AS in_progress_calls,
    sum(talk_minutes) AS talk_minutes,
    sum(outbound_calls) AS outbound_calls,
    CASE
        WHEN sum(outbound_calls) > 0 THEN sum(outbound_answered_calls) / sum(outbound_calls)
    END AS outbound_answer_rate,
    sum(billable_minutes) AS billable_minutes,
    sum(agent_never_ready_calls) AS agent_never_ready_calls
FROM daily_assistant_metrics
WHERE call_date >= $start_day AND call_date < $end_day
GROUP BY call_date
ORDER BY call_date;
