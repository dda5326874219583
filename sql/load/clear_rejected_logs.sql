-- Remove every rejected_logs row of the partitions being replaced; insert_rejected_logs.sql adds their new state.
DELETE FROM rejected_logs
USING affected_partitions AS a
WHERE rejected_logs.call_date = a.call_date
  AND rejected_logs.assistant_id = a.assistant_id;
