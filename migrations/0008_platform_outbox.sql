-- 0008: plugins' emits and platform events go through the durable outbox
-- too (issue 14). origin names the plugin that emitted an event (it gets it
-- back only through a subscription to its own namespace) or the plugin a
-- platform event is about (it never gets it); platform marks the daemon's
-- own events, delivered to plugins with the admin permission only. A core
-- service's row leaves both alone.

ALTER TABLE ss_events
    ADD COLUMN origin TEXT,
    ADD COLUMN platform BOOLEAN NOT NULL DEFAULT false;

-- What was last announced of each installed plugin (plugin.installed,
-- .upgraded, .enabled, .disabled, .uninstalled). ss_plugin_announce(name)
-- compares it with installed_plugins, inserts the platform events for what
-- changed into ss_events and records the new state, in one transaction
-- under a per-plugin lock: whichever daemon (or SQL session) calls it
-- first announces a change, the others find nothing to say, so a change is
-- announced once however many daemons converge on it. row_id tells a
-- reinstall (a new row) from the same install; purged is set by the
-- uninstall that deleted the plugin's storage with its row.
CREATE TABLE ss_plugin_announced (
    plugin TEXT PRIMARY KEY,
    row_id INTEGER NOT NULL,
    version TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    purged BOOLEAN NOT NULL DEFAULT false
);

-- What is installed now was installed before this migration: nothing to say.
INSERT INTO ss_plugin_announced (plugin, row_id, version, enabled)
SELECT name, id, version, coalesce(enabled, true) FROM installed_plugins;

CREATE FUNCTION ss_platform_event(t TEXT, about TEXT, d JSONB) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO ss_events (type, data, origin, platform) VALUES (t, d, about, true);
$$;

CREATE FUNCTION ss_plugin_announce(p TEXT) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    cur installed_plugins%ROWTYPE;
    old ss_plugin_announced%ROWTYPE;
    en BOOLEAN;
    n INTEGER := 0;
BEGIN
    -- Serialised per plugin; both rows are read after the lock (READ
    -- COMMITTED: each statement sees what committed before it), so the
    -- last caller compares the latest state.
    PERFORM pg_advisory_xact_lock(hashtext('ss_plugin_announce'), hashtext(p));
    SELECT * INTO old FROM ss_plugin_announced WHERE plugin = p;
    SELECT * INTO cur FROM installed_plugins WHERE name = p;
    IF old.plugin IS NOT NULL AND (cur.name IS NULL OR cur.id <> old.row_id) THEN
        PERFORM ss_platform_event('plugin.uninstalled', p, jsonb_build_object(
            'plugin', p, 'version', old.version, 'purged', old.purged));
        DELETE FROM ss_plugin_announced WHERE plugin = p;
        n := n + 1;
        old := NULL;
    END IF;
    IF cur.name IS NULL THEN
        RETURN n;
    END IF;
    en := coalesce(cur.enabled, true);
    IF old.plugin IS NULL THEN
        PERFORM ss_platform_event('plugin.installed', p, jsonb_build_object(
            'plugin', p, 'version', cur.version,
            'user', coalesce(cur.installed_by, 'anonymous')));
        INSERT INTO ss_plugin_announced (plugin, row_id, version, enabled)
        VALUES (p, cur.id, cur.version, en);
        RETURN n + 1;
    END IF;
    IF old.version <> cur.version THEN
        PERFORM ss_platform_event('plugin.upgraded', p, jsonb_build_object(
            'plugin', p, 'version', cur.version, 'from', old.version));
        n := n + 1;
    END IF;
    IF old.enabled <> en THEN
        PERFORM ss_platform_event(CASE WHEN en THEN 'plugin.enabled' ELSE 'plugin.disabled' END,
            p, jsonb_build_object('plugin', p, 'version', cur.version));
        n := n + 1;
    END IF;
    IF n > 0 THEN
        UPDATE ss_plugin_announced SET version = cur.version, enabled = en WHERE plugin = p;
    END IF;
    RETURN n;
END
$$;

-- Every plugin installed or announced: what start-up catches up on (a
-- change made while no daemon ran, or by one that died before announcing).
CREATE FUNCTION ss_plugin_announce_all() RETURNS integer LANGUAGE sql AS $$
    SELECT coalesce(sum(ss_plugin_announce(name)), 0)::integer FROM (
        SELECT name FROM installed_plugins UNION SELECT plugin FROM ss_plugin_announced) s;
$$;
