-- The point up to which each assistant is synced: the latest frozen window end of its partitions.
SELECT assistant_id, max(window_end) AS synced_until
FROM sync_state
GROUP BY assistant_id
ORDER BY assistant_id;
