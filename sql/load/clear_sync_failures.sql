-- A partition read after its last failure is synced again: its failure row goes.
DELETE FROM sync_failures AS f
USING incoming_partitions AS p
WHERE f.assistant_id = p.assistant_id
  AND f.call_date = p.call_date
  AND f.failed_at <= p.extracted_at;
