-- Drop the transcript-stat rows of the partitions being reloaded; call_transcript_stats.sql
-- recomputes them (a call whose transcript is now empty keeps no row).
DELETE FROM call_transcript_stats
USING affected_partitions AS a
WHERE call_transcript_stats.call_date = a.call_date
  AND call_transcript_stats.assistant_id = a.assistant_id;
