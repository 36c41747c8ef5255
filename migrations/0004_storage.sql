-- 0004: what plugin storage (PROTOCOL.md, "Storage") needs beyond the
-- guide's plugin_storage table: an expiry per key, each row's size, a usage
-- row per plugin kept by triggers whoever writes, an index in byte order for
-- listing by prefix, and ss_storage_set(), which checks the compare, the
-- quota and writes in one call so that concurrent sets of one plugin cannot
-- pass its quota (they queue on the plugin's usage row).

ALTER TABLE plugin_storage
    ADD COLUMN expires_at TIMESTAMPTZ,
    ADD COLUMN size INTEGER NOT NULL DEFAULT 0;

-- Listing is in byte order (COLLATE "C"), whatever the database's collation.
CREATE INDEX plugin_storage_key_c ON plugin_storage (plugin_name, key COLLATE "C");
CREATE INDEX plugin_storage_expiry ON plugin_storage (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE plugin_storage_usage (
    plugin_name TEXT PRIMARY KEY,
    keys BIGINT NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0
);

-- A row's size is its key's bytes plus its value's serialised bytes.
CREATE FUNCTION ss_storage_size() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.size := octet_length(NEW.key) + octet_length(NEW.value::text);
    RETURN NEW;
END
$$;

CREATE TRIGGER plugin_storage_size BEFORE INSERT OR UPDATE OF key, value ON plugin_storage
    FOR EACH ROW EXECUTE FUNCTION ss_storage_size();

CREATE FUNCTION ss_storage_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE plugin_storage_usage SET keys = keys - 1, bytes = bytes - OLD.size
            WHERE plugin_name = OLD.plugin_name;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO plugin_storage_usage AS u (plugin_name, keys, bytes)
            VALUES (NEW.plugin_name, 1, NEW.size)
            ON CONFLICT (plugin_name) DO UPDATE SET keys = u.keys + 1, bytes = u.bytes + NEW.size;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER plugin_storage_account AFTER INSERT OR UPDATE OR DELETE ON plugin_storage
    FOR EACH ROW EXECUTE FUNCTION ss_storage_account();

UPDATE plugin_storage SET size = octet_length(key) + octet_length(value::text);
INSERT INTO plugin_storage_usage (plugin_name, keys, bytes)
    SELECT plugin_name, count(*), sum(size) FROM plugin_storage GROUP BY plugin_name
    ON CONFLICT (plugin_name) DO UPDATE SET keys = EXCLUDED.keys, bytes = EXCLUDED.bytes;

-- Sets one key of one plugin. cas: 0 plain, 1 only if the live value equals
-- expect, 2 only if no live value. ttl_ms NULL: no expiry. Returns 'ok',
-- 'conflict', 'quota_keys' or 'quota_bytes' (nothing written but 'ok').
-- Expired rows count against the quota until swept; when a set would pass
-- the quota, this plugin's expired rows are swept first and it looks again.
CREATE FUNCTION ss_storage_set(p_plugin TEXT, p_key TEXT, p_value JSONB, p_ttl_ms BIGINT,
                               p_cas INTEGER, p_expect JSONB, p_max_keys BIGINT,
                               p_max_bytes BIGINT) RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    u plugin_storage_usage%ROWTYPE;
    old_value JSONB;
    old_size INTEGER;
    old_live BOOLEAN;
    old_exists BOOLEAN;
    new_size BIGINT := octet_length(p_key) + octet_length(p_value::text);
    dk BIGINT;
    db BIGINT;
BEGIN
    INSERT INTO plugin_storage_usage (plugin_name) VALUES (p_plugin) ON CONFLICT DO NOTHING;
    SELECT * INTO u FROM plugin_storage_usage WHERE plugin_name = p_plugin FOR UPDATE;
    SELECT value, size, (expires_at IS NULL OR expires_at > now())
        INTO old_value, old_size, old_live
        FROM plugin_storage WHERE plugin_name = p_plugin AND key = p_key;
    old_exists := FOUND;
    IF p_cas = 1 AND NOT (old_exists AND old_live AND old_value = p_expect) THEN
        RETURN 'conflict';
    END IF;
    IF p_cas = 2 AND old_exists AND old_live THEN
        RETURN 'conflict';
    END IF;
    dk := CASE WHEN old_exists THEN 0 ELSE 1 END;
    db := new_size - CASE WHEN old_exists THEN old_size ELSE 0 END;
    IF (dk > 0 AND u.keys + dk > p_max_keys) OR (db > 0 AND u.bytes + db > p_max_bytes) THEN
        DELETE FROM plugin_storage
            WHERE plugin_name = p_plugin AND key <> p_key AND expires_at <= now();
        SELECT * INTO u FROM plugin_storage_usage WHERE plugin_name = p_plugin;
        IF dk > 0 AND u.keys + dk > p_max_keys THEN
            RETURN 'quota_keys';
        END IF;
        IF db > 0 AND u.bytes + db > p_max_bytes THEN
            RETURN 'quota_bytes';
        END IF;
    END IF;
    INSERT INTO plugin_storage (plugin_name, key, value, expires_at)
        VALUES (p_plugin, p_key, p_value,
                CASE WHEN p_ttl_ms IS NULL THEN NULL
                     ELSE now() + p_ttl_ms * interval '1 millisecond' END)
        ON CONFLICT (plugin_name, key) DO UPDATE
        SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at, updated_at = NOW();
    RETURN 'ok';
END
$$;

-- Deletes expired rows, plugin by plugin, each under its usage row's lock
-- (taken first, as ss_storage_set and the daemon's deletes do, so that
-- they cannot deadlock). Returns how many rows went.
CREATE FUNCTION ss_storage_sweep() RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
    n BIGINT := 0;
    c BIGINT;
BEGIN
    FOR r IN SELECT DISTINCT plugin_name FROM plugin_storage WHERE expires_at <= now() LOOP
        PERFORM 1 FROM plugin_storage_usage WHERE plugin_name = r.plugin_name FOR UPDATE;
        DELETE FROM plugin_storage WHERE plugin_name = r.plugin_name AND expires_at <= now();
        GET DIAGNOSTICS c = ROW_COUNT;
        n := n + c;
    END LOOP;
    RETURN n;
END
$$;
