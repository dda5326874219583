-- One day of call_logs gets its promoted columns and the extra left without them, from the Arrow
-- table registered as promoted_calls (pipeline/migrations.py builds it with the normaliser's rules).
UPDATE call_logs
SET
    call_type = p.call_type,
    call_service = p.call_service,
    call_end_reason = p.call_end_reason,
    agent_ready_at = p.agent_ready_at,
    queue_id = p.queue_id,
    platform_number = p.platform_number,
    is_passthrough = p.is_passthrough,
    extra = p.extra
FROM promoted_calls AS p
WHERE call_logs.room_name = p.room_name;
