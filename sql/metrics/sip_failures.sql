-- sip_failures: one row per (call_date, assistant_id, sip_status_code) with code >= 400,
-- recomputed for the affected partitions only.
--
--   sip_status_text   the text seen most often with that code; ties go to the alphabetically
--                     smallest text (byte order); NULL texts are ignored unless every text is NULL
--   sip_class         sip_status_code // 100 (4 client, 5 server, 6 global failure)
--   calls             calls of that day and assistant with that code
--   share_of_calls    calls / all calls of that day and assistant (every status, with or without
--                     a SIP code)
INSERT INTO sip_failures (
    call_date, assistant_id, sip_status_code, sip_status_text, sip_class, calls, share_of_calls
)
WITH scoped_calls AS (
    SELECT c.call_date, c.assistant_id, c.sip_status_code, c.sip_status_text
    FROM call_logs AS c
    SEMI JOIN affected_partitions AS a
        ON c.call_date = a.call_date AND c.assistant_id = a.assistant_id
),
day_totals AS (
    SELECT call_date, assistant_id, count(*) AS all_calls
    FROM scoped_calls
    GROUP BY call_date, assistant_id
),
text_counts AS (
    SELECT call_date, assistant_id, sip_status_code, sip_status_text, count(*) AS text_calls
    FROM scoped_calls
    WHERE sip_status_code >= 400
    GROUP BY call_date, assistant_id, sip_status_code, sip_status_text
),
ranked_texts AS (
    SELECT
        *,
        sum(text_calls) OVER code_group AS code_calls,
        row_number() OVER (
            code_group
            ORDER BY sip_status_text IS NULL, text_calls DESC, sip_status_text
        ) AS text_rank
    FROM text_counts
    WINDOW code_group AS (PARTITION BY call_date, assistant_id, sip_status_code)
)
SELECT
    r.call_date,
    r.assistant_id,
    r.sip_status_code,
    r.sip_status_text,
    r.sip_status_code // 100 AS sip_class,
    r.code_calls AS calls,
    r.code_calls / t.all_calls AS share_of_calls
FROM ranked_texts AS r
JOIN day_totals AS t
    ON r.call_date = t.call_date AND r.assistant_id = t.assistant_id
WHERE r.text_rank = 1;
