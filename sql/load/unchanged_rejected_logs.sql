-- The rejected records of this load that are already stored, with the fetched_at they were first
-- fetched at. Runs before clear_rejected_logs.sql (in the same transaction), so
-- insert_rejected_logs.sql can give them back their old fetched_at: rejected_logs.fetched_at means
-- "when this version of the record was first fetched", and re-syncing unchanged days leaves
-- rejected_logs exactly as it was.
--
-- A partition's rejected rows are compared as a multiset of (reason, raw as JSON text): the k-th
-- incoming copy of a (reason, raw) pair matches the k-th stored copy, the stored copies taken
-- oldest first (copy numbers count per partition). An incoming copy without a stored counterpart
-- is absent here and gets the fetched_at of this load.
CREATE OR REPLACE TEMP TABLE unchanged_rejected_logs AS
WITH incoming AS (
    SELECT
        call_date,
        assistant_id,
        reason,
        CAST(CAST(raw AS JSON) AS VARCHAR) AS raw_text,
        row_number() OVER (
            PARTITION BY call_date, assistant_id, reason, CAST(CAST(raw AS JSON) AS VARCHAR)
            ORDER BY fetched_at
        ) AS copy
    FROM incoming_rejected_logs
),
stored AS (
    SELECT
        r.call_date,
        r.assistant_id,
        r.reason,
        CAST(r.raw AS VARCHAR) AS raw_text,
        r.fetched_at,
        row_number() OVER (
            PARTITION BY r.call_date, r.assistant_id, r.reason, CAST(r.raw AS VARCHAR)
            ORDER BY r.fetched_at
        ) AS copy
    FROM rejected_logs AS r
    SEMI JOIN affected_partitions AS a
        ON r.call_date = a.call_date AND r.assistant_id = a.assistant_id
)
SELECT i.call_date, i.assistant_id, i.reason, i.raw_text, i.copy, s.fetched_at
FROM incoming AS i
JOIN stored AS s
    ON s.call_date = i.call_date
    AND s.assistant_id = i.assistant_id
    AND s.reason = i.reason
    AND s.raw_text = i.raw_text
    AND s.copy = i.copy;
