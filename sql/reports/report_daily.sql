-- `calllogs report`: the daily series each assistant's charts plot, over [$first_day, $last_day].
SELECT
    assistant_id,
    call_date,
    calls,
    outbound_calls,
    inbound_calls,
    web_calls,
    outbound_answered_calls,
    outbound_answer_rate,
    p50_seconds_to_answer,
    p90_seconds_to_answer,
    p50_seconds_to_agent_ready,
    p90_seconds_to_agent_ready,
    agent_never_ready_calls
FROM daily_assistant_metrics
WHERE call_date BETWEEN $first_day AND $last_day
ORDER BY assistant_id, call_date;
