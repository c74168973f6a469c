-- ecoeco_waste: uploads, the publish outbox, the workers' WAL mirror, final results,
-- and recycling information (recycle-api). Replicated to ecoeco_analytics.
CREATE TABLE IF NOT EXISTS tasks (
    task_id      TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL,
    image_sha256 TEXT NOT NULL,
    image_bytes  INTEGER NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Every accepted upload's message until the broker confirmed it (then the row is deleted); a
-- relay publishes those the request path could not. The body is the message as sent (JSON
-- bytes, image included): stored as is, never parsed by the database.
CREATE TABLE IF NOT EXISTS outbox (
    task_id      TEXT PRIMARY KEY REFERENCES tasks (task_id),
    body         BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;
-- rows live for milliseconds: vacuum after every 20 dead ones, so the space is reused at once
ALTER TABLE outbox SET (autovacuum_vacuum_threshold = 20, autovacuum_vacuum_scale_factor = 0,
                        toast.autovacuum_vacuum_threshold = 20, toast.autovacuum_vacuum_scale_factor = 0);
-- Mirror of the workers' task_wal rows (the async sync target).
CREATE TABLE IF NOT EXISTS task_stages (
    task_id      TEXT NOT NULL,
    task_name    TEXT NOT NULL,
    status       TEXT NOT NULL,
    worker       TEXT NOT NULL,
    completed_at TIMESTAMPTZ,
    synced_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, task_name)
);
-- Final results. The primary key on task_id is what makes a redelivery harmless;
-- results_log records every write attempt with the attempt (one run of the final stage) it
-- carries, so the audit can tell a re-sent result (same attempt) from work done twice.
CREATE TABLE IF NOT EXISTS results (
    task_id      TEXT PRIMARY KEY,
    category     TEXT NOT NULL,
    answer       TEXT NOT NULL,
    rules        JSONB NOT NULL,
    attempt      TEXT NOT NULL DEFAULT '',
    completed_at TIMESTAMPTZ NOT NULL,
    stored_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS results_log (
    id        BIGSERIAL PRIMARY KEY,
    task_id   TEXT NOT NULL,
    attempt   TEXT NOT NULL DEFAULT '',
    stored_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS results_log_task ON results_log (task_id);
CREATE TABLE IF NOT EXISTS recycling_categories (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    disposal    TEXT NOT NULL
);
INSERT INTO recycling_categories (name, description, disposal) VALUES
    ('plastic', 'PET bottles, containers', 'Rinse, remove labels, flatten, plastic bin'),
    ('paper', 'Newspaper, boxes', 'Keep dry, remove tape, tie in bundles'),
    ('glass', 'Bottles and jars', 'Rinse, remove caps, glass bin'),
    ('metal', 'Cans', 'Rinse and crush, can bin'),
    ('food', 'Food waste', 'Drain water, food waste bin'),
    ('general', 'Everything else', 'Pay-as-you-throw bag')
ON CONFLICT (name) DO NOTHING;
