-- table_row_counts: the number of rows of every warehouse table, one row per table.
CREATE OR REPLACE VIEW table_row_counts AS
SELECT 'call_logs' AS table_name, count(*) AS row_count FROM call_logs
UNION ALL
SELECT 'transcripts', count(*) FROM transcripts
UNION ALL
SELECT 'rejected_logs', count(*) FROM rejected_logs
UNION ALL
SELECT 'daily_assistant_metrics', count(*) FROM daily_assistant_metrics
UNION ALL
SELECT 'sip_failures', count(*) FROM sip_failures
UNION ALL
SELECT 'call_end_reasons', count(*) FROM call_end_reasons
UNION ALL
SELECT 'call_transcript_stats', count(*) FROM call_transcript_stats
UNION ALL
SELECT 'call_status_history', count(*) FROM call_status_history
UNION ALL
SELECT 'sync_state', count(*) FROM sync_state
UNION ALL
SELECT 'sync_failures', count(*) FROM sync_failures
UNION ALL
SELECT 'assistants', count(*) FROM assistants
UNION ALL
SELECT 'unreadable_windows', count(*) FROM unreadable_windows;
