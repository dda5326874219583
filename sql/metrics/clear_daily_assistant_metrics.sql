-- Drop the metric rows of the partitions being reloaded; daily_assistant_metrics.sql recomputes
-- them (a partition left without calls keeps no row).
DELETE FROM daily_assistant_metrics
USING affected_partitions AS a
WHERE daily_assistant_metrics.call_date = a.call_date
  AND daily_assistant_metrics.assistant_id = a.assistant_id;
