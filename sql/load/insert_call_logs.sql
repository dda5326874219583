-- The complete, latest state of the affected partitions' calls, scanned from the Arrow table
-- registered as incoming_call_logs (extra arrives as JSON text and is stored as JSON).
INSERT INTO call_logs (
    room_name, assistant_id, assistant_name, to_number, call_status, call_status_reason,
    sip_status_code, sip_status_text, started_at, answered_at, ended_at, call_duration_minutes,
    billable_duration_minutes, recording_path, call_date, is_final, transcript_turns, extra,
    fetched_at
)
SELECT
    room_name, assistant_id, assistant_name, to_number, call_status, call_status_reason,
    sip_status_code, sip_status_text, started_at, answered_at, ended_at, call_duration_minutes,
    billable_duration_minutes, recording_path, call_date, is_final, transcript_turns, extra,
    fetched_at
FROM incoming_call_logs;
