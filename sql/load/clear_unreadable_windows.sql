-- The loaded partitions were read again: their unreadable parts that now read are gone (those
-- still unreadable come back in incoming_unreadable_windows and keep their first_seen_at).
DELETE FROM unreadable_windows AS u
USING affected_partitions AS p
WHERE u.assistant_id = p.assistant_id
  AND CAST(u.window_start AS DATE) = p.call_date
  AND NOT EXISTS (
      SELECT 1
      FROM incoming_unreadable_windows AS i
      WHERE i.assistant_id = u.assistant_id AND i.window_start = u.window_start
  );
