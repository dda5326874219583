-- Drop the end-reason rows of the partitions being reloaded; call_end_reasons.sql recomputes them.
DELETE FROM call_end_reasons
USING affected_partitions AS a
WHERE call_end_reasons.call_date = a.call_date
  AND call_end_reasons.assistant_id = a.assistant_id;
