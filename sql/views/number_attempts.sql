-- number_attempts: per dialled number (to_number) and assistant, over all days held:
-- attempts (calls), answered (answered_at set or status answered/completed), the first and last
-- started_at, and last_status, the call_status of the latest attempt (ties on started_at broken
-- by room_name so the answer is stable). Calls without a to_number are left out.
CREATE OR REPLACE VIEW number_attempts AS
SELECT
    to_number,
    assistant_id,
    count(*) AS attempts,
    count(*) FILTER (
        WHERE answered_at IS NOT NULL OR call_status IN ('answered', 'completed')
    ) AS answered,
    min(started_at) AS first_attempt_at,
    max(started_at) AS last_attempt_at,
    arg_max(call_status, (started_at, room_name)) AS last_status
FROM call_logs
WHERE to_number IS NOT NULL
GROUP BY to_number, assistant_id;
