-- calls_in_progress: calls not final yet (initiated/answered) as last seen, with their age at
-- query time (age = now - started_at, also as minutes). Old rows here are calls the platform
-- never closed, or days whose later state has not been synced yet.
CREATE OR REPLACE VIEW calls_in_progress AS
SELECT
    room_name,
    assistant_id,
    assistant_name,
    to_number,
    call_status,
    call_date,
    started_at,
    answered_at,
    fetched_at,
    current_timestamp - started_at AS age,
    (epoch_us(current_timestamp) - epoch_us(started_at)) / 60000000.0 AS age_minutes
FROM call_logs
WHERE NOT is_final;
