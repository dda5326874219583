-- A warehouse made before call_status_history knows each call's latest status only: that status,
-- seen when its version was first fetched. Later syncs merge into it as usual.
INSERT INTO call_status_history (
    room_name, call_status, assistant_id, call_date, first_seen_at, last_seen_at
)
SELECT room_name, call_status, assistant_id, call_date, fetched_at, fetched_at
FROM call_logs
WHERE call_status IS NOT NULL
ON CONFLICT (room_name, call_status) DO NOTHING;
