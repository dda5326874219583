-- Remove every transcripts row of the partitions being replaced; insert_transcripts.sql adds their new state.
DELETE FROM transcripts
USING affected_partitions AS a
WHERE transcripts.call_date = a.call_date
  AND transcripts.assistant_id = a.assistant_id;
