-- `calllogs report`: SIP failures (code >= 400) per assistant and class (4, 5, 6) over
-- [$first_day, $last_day].
SELECT
    assistant_id,
    sip_class,
    CAST(sum(calls) AS BIGINT) AS calls
FROM sip_failures
WHERE call_date BETWEEN $first_day AND $last_day
GROUP BY assistant_id, sip_class
ORDER BY assistant_id, sip_class;
