-- transcripts: one row per utterance of a call. turn_index is the 0-based position in the call's
-- list; role is 'agent' (speaker assistant/agent), 'user', or 'other'; speaker is kept as sent.
CREATE TABLE IF NOT EXISTS transcripts (
    room_name    VARCHAR     NOT NULL,
    call_date    DATE        NOT NULL,
    assistant_id VARCHAR     NOT NULL,
    turn_index   INTEGER     NOT NULL,
    speaker      VARCHAR,
    role         VARCHAR     NOT NULL,
    text         VARCHAR,
    spoken_at    TIMESTAMPTZ
);
