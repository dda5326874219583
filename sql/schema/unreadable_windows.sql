-- unreadable_windows: parts of the API that answer a deterministic error, kept until they read.
-- window_start/window_end  the part, [start, end) — as small as the API allows (usually 1 ms)
-- api_count                calls the API counts inside it that no page can serve
-- error                    what the API answered (one line, never the key)
-- first_seen_at            when a sync first met it (kept across reruns)
-- last_seen_at             when a sync last met it
-- A sync that reads its (assistant, day) again replaces that day's rows: a part that now reads
-- is removed, one still unreadable keeps its first_seen_at.
CREATE TABLE IF NOT EXISTS unreadable_windows (
    assistant_id  VARCHAR     NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    window_end    TIMESTAMPTZ NOT NULL,
    api_count     BIGINT      NOT NULL,
    error         VARCHAR     NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (assistant_id, window_start)
);
