-- Drop the SIP failure rows of the partitions being reloaded; sip_failures.sql recomputes them.
DELETE FROM sip_failures
USING affected_partitions AS a
WHERE sip_failures.call_date = a.call_date
  AND sip_failures.assistant_id = a.assistant_id;
