-- daily_assistant_metrics: one row per (call_date, assistant_id) that has calls, recomputed for
-- the affected partitions only. "Calls" are the rows of call_logs of that day and assistant.
--
--   calls                  number of calls
--   answered_calls         calls with answered_at set OR call_status 'answered' / 'completed'
--   answer_rate            answered_calls / calls
--   completed_calls        call_status = 'completed'
--   in_progress_calls      call_status 'initiated' or 'answered' (not final yet)
--   busy, no_answer, rejected, cancelled, unreachable, timeout, failed
--                          number of calls with exactly that call_status
--   ner                    network effectiveness ratio:
--                          (answered_calls + busy + no_answer + rejected) / calls
--                          (taken literally from the contract: a call that has answered_at and a
--                          busy/no_answer/rejected status counts in both terms)
--   sip_failure_calls      calls with sip_status_code >= 400
--   talk_minutes           sum of call_duration_minutes over completed calls; 0.0 when none
--   avg_talk_minutes       mean call_duration_minutes over completed calls that have a duration;
--                          NULL when there is none
--   p50/p90_seconds_to_answer
--                          over calls with answered_at: the 0.5 / 0.9 quantile of
--                          answered_at - started_at in seconds (microsecond precision), with
--                          linear interpolation between neighbours (quantile_cont); NULL when none
--   avg_transcript_turns   mean transcript_turns over all calls
--   outbound_calls         calls with call_type 'outbound'
--   outbound_answered_calls
--                          outbound calls answered by the rule of answered_calls
--   outbound_answer_rate   outbound_answered_calls / outbound_calls; NULL when there is none
--   inbound_calls, web_calls
--                          calls with call_type 'inbound' / 'web'
--   billable_minutes       sum of the non-NULL billable_duration_minutes; 0 when none
--   agent_never_ready_calls
--                          final calls with answered_at but no agent_ready_at: SIP answered and
--                          no agent ever joined (dead air)
--   p50/p90_seconds_to_agent_ready
--                          over calls with both answered_at and agent_ready_at: the 0.5 / 0.9
--                          quantile of agent_ready_at - answered_at in seconds, interpolated
--                          like the answer quantiles; NULL when none
INSERT INTO daily_assistant_metrics (
    call_date, assistant_id, calls, answered_calls, answer_rate, completed_calls,
    in_progress_calls, busy, no_answer, rejected, cancelled, unreachable, timeout, failed, ner,
    sip_failure_calls, talk_minutes, avg_talk_minutes, p50_seconds_to_answer,
    p90_seconds_to_answer, avg_transcript_turns, outbound_calls, outbound_answered_calls,
    outbound_answer_rate, inbound_calls, web_calls, billable_minutes, agent_never_ready_calls,
    p50_seconds_to_agent_ready, p90_seconds_to_agent_ready
)
WITH scoped_calls AS (
    SELECT
        c.*,
        (c.answered_at IS NOT NULL OR c.call_status IN ('answered', 'completed')) AS is_answered,
        (epoch_us(c.answered_at) - epoch_us(c.started_at)) / 1000000.0 AS seconds_to_answer,
        (epoch_us(c.agent_ready_at) - epoch_us(c.answered_at)) / 1000000.0
            AS seconds_to_agent_ready
    FROM call_logs AS c
    SEMI JOIN affected_partitions AS a
        ON c.call_date = a.call_date AND c.assistant_id = a.assistant_id
),
counted AS (
    SELECT
        call_date,
        assistant_id,
        count(*) AS calls,
        count(*) FILTER (WHERE is_answered) AS answered_calls,
        count(*) FILTER (WHERE call_status = 'completed') AS completed_calls,
        count(*) FILTER (WHERE call_status IN ('initiated', 'answered')) AS in_progress_calls,
        count(*) FILTER (WHERE call_status = 'busy') AS busy,
        count(*) FILTER (WHERE call_status = 'no_answer') AS no_answer,
        count(*) FILTER (WHERE call_status = 'rejected') AS rejected,
        count(*) FILTER (WHERE call_status = 'cancelled') AS cancelled,
        count(*) FILTER (WHERE call_status = 'unreachable') AS unreachable,
        count(*) FILTER (WHERE call_status = 'timeout') AS timeout,
        count(*) FILTER (WHERE call_status = 'failed') AS failed,
        count(*) FILTER (WHERE sip_status_code >= 400) AS sip_failure_calls,
        coalesce(
            sum(call_duration_minutes) FILTER (WHERE call_status = 'completed'), 0.0
        ) AS talk_minutes,
        avg(call_duration_minutes) FILTER (WHERE call_status = 'completed') AS avg_talk_minutes,
        quantile_cont(seconds_to_answer, 0.5) FILTER (
            WHERE answered_at IS NOT NULL
        ) AS p50_seconds_to_answer,
        quantile_cont(seconds_to_answer, 0.9) FILTER (
            WHERE answered_at IS NOT NULL
        ) AS p90_seconds_to_answer,
        avg(transcript_turns) AS avg_transcript_turns,
        count(*) FILTER (WHERE call_type = 'outbound') AS outbound_calls,
        count(*) FILTER (WHERE call_type = 'outbound' AND is_answered) AS outbound_answered_calls,
        count(*) FILTER (WHERE call_type = 'inbound') AS inbound_calls,
        count(*) FILTER (WHERE call_type = 'web') AS web_calls,
        CAST(coalesce(sum(billable_duration_minutes), 0) AS BIGINT) AS billable_minutes,
        count(*) FILTER (
            WHERE is_final AND answered_at IS NOT NULL AND agent_ready_at IS NULL
        ) AS agent_never_ready_calls,
        quantile_cont(seconds_to_agent_ready, 0.5) FILTER (
            WHERE seconds_to_agent_ready IS NOT NULL
        ) AS p50_seconds_to_agent_ready,
        quantile_cont(seconds_to_agent_ready, 0.9) FILTER (
            WHERE seconds_to_agent_ready IS NOT NULL
        ) AS p90_seconds_to_agent_ready
    FROM scoped_calls
    GROUP BY call_date, assistant_id
)
SELECT
    call_date,
    assistant_id,
    calls,
    answered_calls,
    answered_calls / calls AS answer_rate,
    completed_calls,
    in_progress_calls,
    busy,
    no_answer,
    rejected,
    cancelled,
    unreachable,
    timeout,
    failed,
    (answered_calls + busy + no_answer + rejected) / calls AS ner,
    sip_failure_calls,
    talk_minutes,
    avg_talk_minutes,
    p50_seconds_to_answer,
    p90_seconds_to_answer,
    avg_transcript_turns,
    outbound_calls,
    outbound_answered_calls,
    CASE WHEN outbound_calls > 0 THEN outbound_answered_calls / outbound_calls END
        AS outbound_answer_rate,
    inbound_calls,
    web_calls,
    billable_minutes,
    agent_never_ready_calls,
    p50_seconds_to_agent_ready,
    p90_seconds_to_agent_ready
FROM counted;
