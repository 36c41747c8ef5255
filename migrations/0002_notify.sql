-- 0002: announce every change of the desired state and of the tokens with
-- NOTIFY, whoever makes it (a daemon or plain SQL), so every daemon sharing
-- the database converges. Payload: the plugin's name, or '*' for "all".

CREATE FUNCTION ss_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := NOW();
    RETURN NEW;
END
$$;

CREATE TRIGGER installed_plugins_touch BEFORE UPDATE ON installed_plugins
    FOR EACH ROW EXECUTE FUNCTION ss_touch_updated_at();
CREATE TRIGGER catalog_plugins_touch BEFORE UPDATE ON catalog_plugins
    FOR EACH ROW EXECUTE FUNCTION ss_touch_updated_at();
CREATE TRIGGER plugin_ratings_touch BEFORE UPDATE ON plugin_ratings
    FOR EACH ROW EXECUTE FUNCTION ss_touch_updated_at();

CREATE FUNCTION ss_notify_installed_plugins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('ss_installed_plugins', '*');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('ss_installed_plugins', OLD.name);
    ELSE
        PERFORM pg_notify('ss_installed_plugins', NEW.name);
        IF TG_OP = 'UPDATE' AND OLD.name <> NEW.name THEN
            PERFORM pg_notify('ss_installed_plugins', OLD.name);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER installed_plugins_notify AFTER INSERT OR UPDATE OR DELETE ON installed_plugins
    FOR EACH ROW EXECUTE FUNCTION ss_notify_installed_plugins();
CREATE TRIGGER installed_plugins_notify_truncate AFTER TRUNCATE ON installed_plugins
    FOR EACH STATEMENT EXECUTE FUNCTION ss_notify_installed_plugins();

CREATE FUNCTION ss_notify_api_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ss_api_tokens', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION ss_notify_api_tokens();

-- Keep the catalog's rating figures in step with plugin_ratings, however it changes.
CREATE FUNCTION ss_rating_totals() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    plugin TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        plugin := OLD.plugin_name;
    ELSE
        plugin := NEW.plugin_name;
    END IF;
    UPDATE catalog_plugins c SET
        avg_rating = s.avg, rating_count = s.n
    FROM (SELECT avg(rating)::numeric(3,2) AS avg, count(*) AS n
          FROM plugin_ratings WHERE plugin_name = plugin) s
    WHERE c.name = plugin;
    RETURN NULL;
END
$$;

CREATE TRIGGER plugin_ratings_totals AFTER INSERT OR UPDATE OR DELETE ON plugin_ratings
    FOR EACH ROW EXECUTE FUNCTION ss_rating_totals();
