-- daily_assistant_metrics: one row per (call_date, assistant_id) that has calls.
-- Definitions live with the statement that computes them: sql/metrics/daily_assistant_metrics.sql.
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
    PRIMARY KEY (call_date, assistant_id)
);
