-- 0003: remote catalog repositories. Each keeps what its last sync found
-- (ETag, status, last error) and a lease, so that of several daemons sharing
-- the database one syncs a repository at a time; catalog_plugins keep the
-- whole catalog entry (what an install needs: downloadUrl, sha256, abi, arch,
-- signature) besides the guide's columns.

ALTER TABLE catalog_repositories
    ADD COLUMN etag TEXT,
    ADD COLUMN status TEXT NOT NULL DEFAULT 'never'
        CHECK (status IN ('never', 'ok', 'error')),
    ADD COLUMN last_error TEXT,
    ADD COLUMN sync_lease_until TIMESTAMP,
    ADD CONSTRAINT catalog_repositories_url CHECK (url ~ '^(https?|file)://');

ALTER TABLE catalog_plugins
    ADD COLUMN signature TEXT,
    ADD COLUMN entry JSONB;

CREATE TRIGGER catalog_repositories_touch BEFORE UPDATE ON catalog_repositories
    FOR EACH ROW EXECUTE FUNCTION ss_touch_updated_at();
