-- Every partition of call_logs, as the metric statements' affected_partitions: after a migration
-- every derived row is recomputed.
CREATE OR REPLACE TEMP TABLE affected_partitions AS
SELECT DISTINCT call_date, assistant_id
FROM call_logs;
