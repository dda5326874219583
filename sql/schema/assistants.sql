-- assistants: every assistant a sync has covered, and its lifecycle.
-- last_status   synced | failed | removed (the latest run that covered it)
-- removed_at    when it left /assistant/list (or the configuration); its history stays in the
--               warehouse and it is no longer synced. Cleared if it comes back.
CREATE TABLE IF NOT EXISTS assistants (
    assistant_id   VARCHAR     NOT NULL PRIMARY KEY,
    assistant_name VARCHAR,
    first_seen_at  TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    last_status    VARCHAR     NOT NULL,
    removed_at     TIMESTAMPTZ,
    removed_reason VARCHAR
);
