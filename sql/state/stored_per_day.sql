-- What the warehouse holds per (assistant, day) of [$since, $until) for $assistants, counted as the
-- API counts: every call (call_logs), every quarantined record (rejected_logs) and every call the
-- API counts but cannot serve (unreadable_windows.api_count). The audit compares it with the
-- API's totals over the same days.
SELECT assistant_id, call_date, sum(n)::BIGINT AS stored
FROM (
    SELECT assistant_id, call_date, count(*) AS n
    FROM call_logs
    WHERE call_date >= $since AND call_date < $until AND list_contains($assistants, assistant_id)
    GROUP BY ALL
    UNION ALL
    SELECT assistant_id, call_date, count(*) AS n
    FROM rejected_logs
    WHERE call_date >= $since AND call_date < $until AND list_contains($assistants, assistant_id)
    GROUP BY ALL
    UNION ALL
    SELECT assistant_id, CAST(window_start AS DATE) AS call_date, sum(api_count) AS n
    FROM unreadable_windows
    WHERE CAST(window_start AS DATE) >= $since AND CAST(window_start AS DATE) < $until
      AND list_contains($assistants, assistant_id)
    GROUP BY ALL
)
GROUP BY ALL
ORDER BY assistant_id, call_date;
