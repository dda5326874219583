-- What a run learnt of each assistant: seen (synced or failed) or removed.
INSERT INTO assistants AS a (
    assistant_id, assistant_name, first_seen_at, last_seen_at, last_status, removed_at,
    removed_reason
)
SELECT
    i.assistant_id,
    nullif(i.assistant_name, ''),
    i.seen_at,
    i.seen_at,
    i.status,
    CASE WHEN i.status = 'removed' THEN i.seen_at END,
    CASE WHEN i.status = 'removed' THEN i.note END
FROM incoming_assistants AS i
ON CONFLICT (assistant_id) DO UPDATE SET
    assistant_name = coalesce(excluded.assistant_name, a.assistant_name),
    last_seen_at = CASE WHEN excluded.last_status = 'removed' THEN a.last_seen_at
                        ELSE excluded.last_seen_at END,
    last_status = excluded.last_status,
    removed_at = CASE WHEN excluded.last_status = 'removed'
                      THEN coalesce(a.removed_at, excluded.removed_at) END,
    removed_reason = CASE WHEN excluded.last_status = 'removed' THEN excluded.removed_reason END;
