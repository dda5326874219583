-- hourly_answer_rate: per assistant and UTC hour of day (0-23) of started_at, over all days held:
-- calls, answered_calls (answered_at set or status answered/completed, as in
-- daily_assistant_metrics) and answer_rate = answered_calls / calls.
-- The hour is taken in UTC explicitly so it does not depend on the session's TimeZone.
CREATE OR REPLACE VIEW hourly_answer_rate AS
SELECT
    assistant_id,
    hour(timezone('UTC', started_at)) AS hour_of_day,
    count(*) AS calls,
    count(*) FILTER (
        WHERE answered_at IS NOT NULL OR call_status IN ('answered', 'completed')
    ) AS answered_calls,
    answered_calls / calls AS answer_rate
FROM call_logs
GROUP BY assistant_id, hour_of_day;
