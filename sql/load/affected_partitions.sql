-- The (call_date, assistant_id) partitions this load replaces. Every later statement of the load
-- (clear_*, insert_*, metrics) is restricted to them, so history outside them is never touched.
CREATE OR REPLACE TEMP TABLE affected_partitions AS
SELECT DISTINCT call_date, assistant_id
FROM incoming_partitions;
