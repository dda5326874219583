-- The complete, latest state of the affected partitions' calls, scanned from the Arrow table
-- registered as incoming_call_logs (extra arrives as JSON text and is stored as JSON).
--
-- fetched_at means "when this version of the call was first fetched": a call found unchanged by
-- unchanged_calls.sql keeps the fetched_at it already had; a changed or new call gets the
-- incoming one. So re-syncing days whose calls did not change leaves call_logs exactly as it was.
INSERT INTO call_logs (
    room_name, assistant_id, assistant_name, to_number, call_status, call_status_reason,
    sip_status_code, sip_status_text, started_at, answered_at, ended_at, call_duration_minutes,
    billable_duration_minutes, recording_path, call_date, is_final, transcript_turns, extra,
    fetched_at
)
SELECT
    i.room_name, i.assistant_id, i.assistant_name, i.to_number, i.call_status,
    i.call_status_reason, i.sip_status_code, i.sip_status_text, i.started_at, i.answered_at,
    i.ended_at, i.call_duration_minutes, i.billable_duration_minutes, i.recording_path,
    i.call_date, i.is_final, i.transcript_turns, i.extra,
    coalesce(u.fetched_at, i.fetched_at) AS fetched_at
FROM incoming_call_logs AS i
LEFT JOIN unchanged_calls AS u
    ON u.room_name = i.room_name;
