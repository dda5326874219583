-- Every utterance of the affected partitions' calls, scanned from the Arrow table registered as
-- incoming_transcripts.
INSERT INTO transcripts (
    room_name, call_date, assistant_id, turn_index, speaker, role, text, spoken_at
)
SELECT room_name, call_date, assistant_id, turn_index, speaker, role, text, spoken_at
FROM incoming_transcripts;
