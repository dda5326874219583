-- `calllogs report`: the first and the latest day with calls. The report covers the N days that end
-- on the latest one (never before the first), so a warehouse synced last week still shows its last
-- N days rather than an empty page.
SELECT
    min(call_date) AS first_day,
    max(call_date) AS last_day
FROM daily_assistant_metrics;
