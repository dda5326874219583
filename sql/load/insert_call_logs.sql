-- The complete, latest state of the affected partitions' calls, scanned from the Arrow table
-- registered as incoming_call_logs (extra arrives as JSON text and is stored as JSON). Columns
-- go BY NAME: the incoming table has exactly call_logs' columns (pipeline.schemas.CALL_LOGS_SCHEMA,
-- kept equal to sql/schema/call_logs.sql by a test), so none is listed here.
--
-- fetched_at means "when this version of the call was first fetched": a call found unchanged by
-- unchanged_calls.sql keeps the fetched_at it already had; a changed or new call gets the
-- incoming one. So re-syncing days whose calls did not change leaves call_logs exactly as it was.
INSERT INTO call_logs BY NAME
SELECT i.* REPLACE (coalesce(u.fetched_at, i.fetched_at) AS fetched_at)
FROM incoming_call_logs AS i
LEFT JOIN unchanged_calls AS u
    ON u.room_name = i.room_name;
