-- Wave 2 on a warehouse made before it: the columns that were kept in call_logs.extra, and the
-- metric columns computed from them. pipeline/migrations.py then fills them (moving the values out
-- of extra) and recomputes every derived table.
ALTER TABLE call_logs ADD COLUMN IF NOT EXISTS call_type VARCHAR;
ALTER TABLE call_logs ADD COLUMN IF NOT EXISTS call_service VARCHAR;
ALTER TABLE call_logs ADD COLUMN IF NOT EXISTS call_end_reason VARCHAR;
ALTER TABLE call_logs ADD COLUMN IF NOT EXISTS agent_ready_at TIMESTAMPTZ;
ALTER TABLE call_logs ADD COLUMN IF NOT EXISTS queue_id VARCHAR;
ALTER TABLE call_logs ADD COLUMN IF NOT EXISTS platform_number VARCHAR;
ALTER TABLE call_logs ADD COLUMN IF NOT EXISTS is_passthrough BOOLEAN;
ALTER TABLE daily_assistant_metrics ADD COLUMN IF NOT EXISTS outbound_calls BIGINT;
ALTER TABLE daily_assistant_metrics ADD COLUMN IF NOT EXISTS outbound_answered_calls BIGINT;
ALTER TABLE daily_assistant_metrics ADD COLUMN IF NOT EXISTS outbound_answer_rate DOUBLE;
ALTER TABLE daily_assistant_metrics ADD COLUMN IF NOT EXISTS inbound_calls BIGINT;
ALTER TABLE daily_assistant_metrics ADD COLUMN IF NOT EXISTS web_calls BIGINT;
ALTER TABLE daily_assistant_metrics ADD COLUMN IF NOT EXISTS billable_minutes BIGINT;
ALTER TABLE daily_assistant_metrics ADD COLUMN IF NOT EXISTS agent_never_ready_calls BIGINT;
ALTER TABLE daily_assistant_metrics ADD COLUMN IF NOT EXISTS p50_seconds_to_agent_ready DOUBLE;
ALTER TABLE daily_assistant_metrics ADD COLUMN IF NOT EXISTS p90_seconds_to_agent_ready DOUBLE;
