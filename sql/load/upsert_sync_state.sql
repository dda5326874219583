-- Record how far each loaded partition was synced. non_final_calls and rejected_rows are counted
-- from the rows this transaction just stored, so they always agree with the tables;
-- synced_at is the transaction's start time; extracted_at when the API was read.
INSERT OR REPLACE INTO sync_state (
    assistant_id, call_date, window_end, api_total, verified_calls, non_final_calls,
    rejected_rows, requests, synced_at, extracted_at
)
SELECT
    p.assistant_id,
    p.call_date,
    p.window_end,
    p.api_total,
    p.verified_calls,
    (
        SELECT count(*)
        FROM call_logs AS c
        WHERE c.call_date = p.call_date AND c.assistant_id = p.assistant_id AND NOT c.is_final
    ) AS non_final_calls,
    (
        SELECT count(*)
        FROM rejected_logs AS r
        WHERE r.call_date = p.call_date AND r.assistant_id = p.assistant_id
    ) AS rejected_rows,
    p.requests,
    current_timestamp AS synced_at,
    p.extracted_at
FROM incoming_partitions AS p;
