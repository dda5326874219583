-- The records of the affected partitions that could not be normalised, scanned from the Arrow
-- table registered as incoming_rejected_logs (raw arrives as JSON text and is stored as JSON).
--
-- fetched_at means "when this version of the record was first fetched": an incoming copy matched
-- to a stored one by unchanged_rejected_logs.sql (same partition, reason and raw JSON text, same
-- copy number - numbered exactly as there) keeps the stored fetched_at; any other gets the
-- incoming one. So re-syncing unchanged days leaves rejected_logs exactly as it was.
INSERT INTO rejected_logs (assistant_id, call_date, reason, raw, fetched_at)
WITH incoming AS (
    SELECT
        *,
        CAST(CAST(raw AS JSON) AS VARCHAR) AS raw_text,
        row_number() OVER (
            PARTITION BY call_date, assistant_id, reason, CAST(CAST(raw AS JSON) AS VARCHAR)
            ORDER BY fetched_at
        ) AS copy
    FROM incoming_rejected_logs
)
SELECT
    i.assistant_id,
    i.call_date,
    i.reason,
    i.raw,
    coalesce(u.fetched_at, i.fetched_at) AS fetched_at
FROM incoming AS i
LEFT JOIN unchanged_rejected_logs AS u
    ON u.call_date = i.call_date
    AND u.assistant_id = i.assistant_id
    AND u.reason = i.reason
    AND u.raw_text = i.raw_text
    AND u.copy = i.copy;
