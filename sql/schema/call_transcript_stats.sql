-- call_transcript_stats: one row per call with at least one utterance.
-- Definitions live with the statement that computes them: sql/metrics/call_transcript_stats.sql.
CREATE TABLE IF NOT EXISTS call_transcript_stats (
    room_name           VARCHAR NOT NULL PRIMARY KEY,
    assistant_id        VARCHAR NOT NULL,
    call_date           DATE    NOT NULL,
    turns               BIGINT  NOT NULL,
    agent_turns         BIGINT  NOT NULL,
    user_turns          BIGINT  NOT NULL,
    agent_words         BIGINT  NOT NULL,
    user_words          BIGINT  NOT NULL,
    agent_word_share    DOUBLE,
    first_agent_seconds DOUBLE
);
