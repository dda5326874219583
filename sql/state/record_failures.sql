-- Record the (assistant, day) pairs a run could not sync, unless the warehouse already holds a
-- newer read of that day (runs can finish in any order).
INSERT OR REPLACE INTO sync_failures
SELECT f.assistant_id, f.call_date, f.error_kind, f.error, f.failed_at, f.run_id
FROM incoming_failures AS f
LEFT JOIN sync_state AS s
    ON s.assistant_id = f.assistant_id AND s.call_date = f.call_date
WHERE s.extracted_at IS NULL OR s.extracted_at < f.failed_at;
