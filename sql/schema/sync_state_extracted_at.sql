-- extracted_at: when the partition was read from the API (older warehouses gain the column).
ALTER TABLE sync_state ADD COLUMN IF NOT EXISTS extracted_at TIMESTAMPTZ;
