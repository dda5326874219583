-- One line per assistant over [$start_day, $end_day): the table `make demo` prints.
SELECT
    m.assistant_id,
    sum(m.calls) AS calls,
    round(sum(m.answered_calls) / nullif(sum(m.calls), 0), 3) AS answer_rate,
    round(sum(m.ner * m.calls) / nullif(sum(m.calls), 0), 3) AS ner,
    sum(m.completed_calls) AS completed,
    sum(m.in_progress_calls) AS in_progress,
    sum(m.sip_failure_calls) AS sip_failures,
    round(sum(m.talk_minutes), 1) AS talk_minutes,
    round(median(m.p50_seconds_to_answer), 1) AS median_p50_answer_s
FROM daily_assistant_metrics AS m
WHERE m.call_date >= $start_day AND m.call_date < $end_day
GROUP BY m.assistant_id
ORDER BY m.assistant_id;
