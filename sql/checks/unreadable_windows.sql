-- Failing rows: parts of the checked partitions that the API counts but answers a deterministic
-- error for (the calls in them are not in the warehouse; the next sync tries them again).
SELECT
    u.assistant_id,
    CAST(u.window_start AS DATE) AS call_date,
    u.window_start,
    u.window_end,
    u.api_count,
    u.first_seen_at,
    u.last_seen_at,
    u.error
FROM unreadable_windows AS u
SEMI JOIN checked_partitions AS p
    ON p.assistant_id = u.assistant_id AND p.call_date = CAST(u.window_start AS DATE)
ORDER BY u.window_start, u.assistant_id;
