-- The records of the affected partitions that could not be normalised, scanned from the Arrow
-- table registered as incoming_rejected_logs (raw arrives as JSON text and is stored as JSON).
INSERT INTO rejected_logs (assistant_id, call_date, reason, raw, fetched_at)
SELECT assistant_id, call_date, reason, raw, fetched_at
FROM incoming_rejected_logs;
