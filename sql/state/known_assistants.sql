-- Every assistant the warehouse knows (synced, failed or recorded), and whether it was removed.
SELECT k.assistant_id, coalesce(a.removed_at IS NOT NULL, false) AS removed
FROM (
    SELECT assistant_id FROM sync_state
    UNION
    SELECT assistant_id FROM sync_failures
    UNION
    SELECT assistant_id FROM assistants
) AS k
LEFT JOIN assistants AS a USING (assistant_id)
ORDER BY k.assistant_id;
