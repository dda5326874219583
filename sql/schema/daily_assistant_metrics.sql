-- daily_assistant_metrics: one row per (call_date, assistant_id) that has calls.
-- Definitions live with the statement that computes them: sql/metrics/daily_assistant_metrics.sql.
-- The columns after avg_transcript_turns came in wave 2: nullable only because older warehouses
-- gain them with ADD COLUMN (pipeline/migrations.py recomputes every row then); never NULL in
-- practice except outbound_answer_rate and the p50/p90 columns, as defined.
CREATE TABLE IF NOT EXISTS daily_assistant_metrics (
    call_date             DATE    NOT NULL,
    assistant_id          VARCHAR NOT NULL,
    calls                 BIGINT  NOT NULL,
    answered_calls        BIGINT  NOT NULL,
    answer_rate           DOUBLE  NOT NULL,
    completed_calls       BIGINT  NOT NULL,
    in_progress_calls     BIGINT  NOT NULL,
    busy                  BIGINT  NOT NULL,
    no_answer             BIGINT  NOT NULL,
    rejected              BIGINT  NOT NULL,
    cancelled             BIGINT  NOT NULL,
    unreachable           BIGINT  NOT NULL,
    timeout               BIGINT  NOT NULL,
    failed                BIGINT  NOT NULL,
    ner                   DOUBLE  NOT NULL,
    sip_failure_calls     BIGINT  NOT NULL,
    talk_minutes          DOUBLE  NOT NULL,
    avg_talk_minutes      DOUBLE,
    p50_seconds_to_answer DOUBLE,
    p90_seconds_to_answer DOUBLE,
    avg_transcript_turns  DOUBLE  NOT NULL,
    outbound_calls              BIGINT,
    outbound_answered_calls     BIGINT,
    outbound_answer_rate        DOUBLE,
    inbound_calls               BIGINT,
    web_calls                   BIGINT,
    billable_minutes            BIGINT,
    agent_never_ready_calls     BIGINT,
    p50_seconds_to_agent_ready  DOUBLE,
    p90_seconds_to_agent_ready  DOUBLE,
    PRIMARY KEY (call_date, assistant_id)
);
