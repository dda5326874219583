-- When the warehouse last received a sync.
SELECT max(synced_at) AS last_synced_at FROM sync_state;
