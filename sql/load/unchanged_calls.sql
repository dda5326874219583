-- The calls of this load that are exactly as already stored, with the fetched_at they were first
-- fetched at. Runs before clear_call_logs.sql (in the same transaction), so insert_call_logs.sql
-- can give them back their old fetched_at: call_logs.fetched_at means "when this version of the
-- call was first fetched", and re-syncing unchanged days leaves call_logs exactly as it was.
--
-- "Exactly as stored" is every column but fetched_at IS NOT DISTINCT FROM the incoming one
-- (NULL matches NULL), extra compared as its JSON text. A changed call, or a new one, is absent
-- here and gets the fetched_at of this load. Matching on call_date and assistant_id as well
-- keeps the previous rows within the partitions being replaced.
CREATE OR REPLACE TEMP TABLE unchanged_calls AS
SELECT i.room_name, c.fetched_at
FROM incoming_call_logs AS i
JOIN call_logs AS c
    ON c.room_name = i.room_name
    AND c.call_date = i.call_date
    AND c.assistant_id = i.assistant_id
    AND c.assistant_name IS NOT DISTINCT FROM i.assistant_name
    AND c.to_number IS NOT DISTINCT FROM i.to_number
    AND c.call_status IS NOT DISTINCT FROM i.call_status
    AND c.call_status_reason IS NOT DISTINCT FROM i.call_status_reason
    AND c.sip_status_code IS NOT DISTINCT FROM i.sip_status_code
    AND c.sip_status_text IS NOT DISTINCT FROM i.sip_status_text
    AND c.started_at IS NOT DISTINCT FROM i.started_at
    AND c.answered_at IS NOT DISTINCT FROM i.answered_at
    AND c.ended_at IS NOT DISTINCT FROM i.ended_at
    AND c.call_duration_minutes IS NOT DISTINCT FROM i.call_duration_minutes
    AND c.billable_duration_minutes IS NOT DISTINCT FROM i.billable_duration_minutes
    AND c.recording_path IS NOT DISTINCT FROM i.recording_path
    AND c.is_final IS NOT DISTINCT FROM i.is_final
    AND c.transcript_turns IS NOT DISTINCT FROM i.transcript_turns
    AND CAST(c.extra AS VARCHAR) IS NOT DISTINCT FROM CAST(CAST(i.extra AS JSON) AS VARCHAR);
