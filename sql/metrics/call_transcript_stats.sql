-- call_transcript_stats: one row per call of the affected partitions with at least one utterance.
--
--   turns                utterances of the call
--   agent_turns, user_turns
--                        utterances with role 'agent' / 'user'
--   agent_words, user_words
--                        whitespace-separated tokens of those utterances' text, counted as Python's
--                        str.split() counts them: runs of any character str.isspace() accepts
--                        (the class below lists exactly those) separate words; NULL text has none
--   agent_word_share     agent_words / (agent_words + user_words); NULL when both are 0
--   first_agent_seconds  for the first agent utterance in transcript order (lowest turn_index):
--                        its spoken_at - the call's answered_at in seconds; NULL when the call has
--                        no agent utterance or either time is missing
INSERT INTO call_transcript_stats (
    room_name, assistant_id, call_date, turns, agent_turns, user_turns, agent_words, user_words,
    agent_word_share, first_agent_seconds
)
WITH utterances AS (
    SELECT
        t.room_name,
        t.assistant_id,
        t.call_date,
        t.turn_index,
        t.role,
        t.spoken_at,
        coalesce(len(list_filter(
            regexp_split_to_array(
                t.text,
                '[\t-\r\x{1C}- \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+'
            ),
            lambda word: word <> ''
        )), 0) AS words
    FROM transcripts AS t
    SEMI JOIN affected_partitions AS a
        ON t.call_date = a.call_date AND t.assistant_id = a.assistant_id
),
per_call AS (
    SELECT
        room_name,
        any_value(assistant_id) AS assistant_id,
        any_value(call_date) AS call_date,
        count(*) AS turns,
        count(*) FILTER (WHERE role = 'agent') AS agent_turns,
        count(*) FILTER (WHERE role = 'user') AS user_turns,
        coalesce(sum(words) FILTER (WHERE role = 'agent'), 0) AS agent_words,
        coalesce(sum(words) FILTER (WHERE role = 'user'), 0) AS user_words,
        -- arg_min would skip an utterance without spoken_at and take the next one
        arg_min_null(spoken_at, turn_index) FILTER (WHERE role = 'agent') AS first_agent_spoken_at
    FROM utterances
    GROUP BY room_name
)
SELECT
    p.room_name,
    p.assistant_id,
    p.call_date,
    p.turns,
    p.agent_turns,
    p.user_turns,
    p.agent_words,
    p.user_words,
    CASE
        WHEN p.agent_words + p.user_words > 0
            THEN p.agent_words / (p.agent_words + p.user_words)
    END AS agent_word_share,
    (epoch_us(p.first_agent_spoken_at) - epoch_us(c.answered_at)) / 1000000.0
        AS first_agent_seconds
FROM per_call AS p
JOIN call_logs AS c ON c.room_name = p.room_name;
