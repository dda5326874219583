-- The (assistant, day) pairs synced in [$start_day, $end_day): what a run without a plan checks.
SELECT call_date, assistant_id
FROM sync_state
WHERE call_date >= $start_day AND call_date < $end_day;
