-- Remove every call_logs row of the partitions being replaced; insert_call_logs.sql adds their new state.
DELETE FROM call_logs
USING affected_partitions AS a
WHERE call_logs.call_date = a.call_date
  AND call_logs.assistant_id = a.assistant_id;
