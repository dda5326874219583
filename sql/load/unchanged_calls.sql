-- The calls of this load that are exactly as already stored, with the fetched_at they were first
-- fetched at. Runs before clear_call_logs.sql (in the same transaction), so insert_call_logs.sql
-- can give them back their old fetched_at: call_logs.fetched_at means "when this version of the
-- call was first fetched", and re-syncing unchanged days leaves call_logs exactly as it was.
--
-- "Exactly as stored" is every column but fetched_at equal, NULL matching NULL (INTERSECT's set
-- semantics), extra compared as its JSON text. The columns are the table's own (* EXCLUDE), so a
-- column added to call_logs is compared without being named here. A changed call, or a new one,
-- is absent and gets the fetched_at of this load.
CREATE OR REPLACE TEMP TABLE unchanged_calls AS
WITH incoming AS (
    SELECT * EXCLUDE (fetched_at) REPLACE (CAST(CAST(extra AS JSON) AS VARCHAR) AS extra)
    FROM incoming_call_logs
),
stored AS (
    SELECT c.* EXCLUDE (fetched_at) REPLACE (CAST(c.extra AS VARCHAR) AS extra)
    FROM call_logs AS c
    SEMI JOIN incoming_call_logs AS i ON c.room_name = i.room_name
),
same AS (
    SELECT * FROM incoming
    INTERSECT
    SELECT * FROM stored
)
SELECT s.room_name, c.fetched_at
FROM same AS s
JOIN call_logs AS c ON c.room_name = s.room_name;
