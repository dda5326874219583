-- sync_state: one row per (assistant_id, call_date) partition the warehouse holds.
-- window_end      the frozen upper bound the partition was synced up to
-- api_total       the server's total for the window; verified_calls how many calls were verified
-- non_final_calls calls still initiated/answered (the day must be synced again later)
-- rejected_rows   records that could not be normalised; requests API requests the sync made
-- synced_at       when the load transaction ran
CREATE TABLE IF NOT EXISTS sync_state (
    assistant_id    VARCHAR     NOT NULL,
    call_date       DATE        NOT NULL,
    window_end      TIMESTAMPTZ NOT NULL,
    api_total       BIGINT      NOT NULL,
    verified_calls  BIGINT      NOT NULL,
    non_final_calls BIGINT      NOT NULL,
    rejected_rows   BIGINT      NOT NULL,
    requests        BIGINT      NOT NULL,
    synced_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (assistant_id, call_date)
);
