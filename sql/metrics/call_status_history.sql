-- call_status_history: merge the statuses this load saw into the history (never rebuilt).
-- "Seen" is the fetched_at of the incoming version (when this sync read it), so reloading what was
-- already loaded changes nothing, and seeing a status again only moves last_seen_at forward (or
-- first_seen_at back, should an older read be loaded after a newer one). Calls without a
-- call_status have no status to record.
INSERT INTO call_status_history (
    room_name, call_status, assistant_id, call_date, first_seen_at, last_seen_at
)
SELECT room_name, call_status, assistant_id, call_date, fetched_at, fetched_at
FROM incoming_call_logs
WHERE call_status IS NOT NULL
ON CONFLICT (room_name, call_status) DO UPDATE SET
    first_seen_at = least(call_status_history.first_seen_at, excluded.first_seen_at),
    last_seen_at = greatest(call_status_history.last_seen_at, excluded.last_seen_at);
