-- Record the loaded partitions' unreadable parts: a part seen before keeps its first_seen_at and
-- only moves last_seen_at (and takes the latest count and error).
INSERT INTO unreadable_windows AS u (
    assistant_id, window_start, window_end, api_count, error, first_seen_at, last_seen_at
)
SELECT assistant_id, window_start, window_end, api_count, error, seen_at, seen_at
FROM incoming_unreadable_windows
ON CONFLICT (assistant_id, window_start) DO UPDATE SET
    window_end = excluded.window_end,
    api_count = excluded.api_count,
    error = excluded.error,
    first_seen_at = least(u.first_seen_at, excluded.first_seen_at),
    last_seen_at = greatest(u.last_seen_at, excluded.last_seen_at);
