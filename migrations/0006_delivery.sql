-- 0006: delivery state of the durable events, shared by every daemon on the
-- database. A plugin's cursor is the id of the last event it acknowledged
-- (every event up to it was handled, failed or set aside as poison); its
-- delivery is owned by one daemon at a time: owner and lease_until, renewed
-- by the owner's heartbeat, taken over by another daemon once it lapses.
-- The owner advances acked_id in batches, fenced by owner, so a daemon that
-- lost the lease cannot move it.

CREATE TABLE ss_event_cursors (
    plugin TEXT PRIMARY KEY,
    acked_id BIGINT NOT NULL,
    owner TEXT,
    lease_until TIMESTAMPTZ,
    acked_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- The daemons sharing the database: a row per running daemon, last_seen
-- moved by its heartbeat; hosts holds its plugins' host states by name.
CREATE TABLE ss_daemons (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_seen TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    hosts JSONB NOT NULL DEFAULT '{}'
);

-- A plugin installed later starts at the head of the outbox (no history);
-- uninstalling forgets its cursor, so a reinstall starts at the head again.
-- Operators replay on purpose by moving acked_id back (README, "Durable events").
CREATE FUNCTION ss_event_cursor_install() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ss_event_cursors (plugin, acked_id)
        VALUES (NEW.name, (SELECT coalesce(max(id), 0) FROM ss_events))
        ON CONFLICT (plugin) DO NOTHING;
    ELSE
        DELETE FROM ss_event_cursors WHERE plugin = OLD.name;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER installed_plugins_cursor AFTER INSERT OR DELETE ON installed_plugins
    FOR EACH ROW EXECUTE FUNCTION ss_event_cursor_install();

INSERT INTO ss_event_cursors (plugin, acked_id)
SELECT name, (SELECT coalesce(max(id), 0) FROM ss_events) FROM installed_plugins;
