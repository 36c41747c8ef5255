-- 0001: the guide's tables (catalog_repositories, catalog_plugins,
-- installed_plugins, plugin_storage) plus api_tokens and plugin_ratings.
-- schema_migrations is created by the daemon itself before any migration.

CREATE TABLE catalog_repositories (
    id SERIAL PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    url TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT 'remote' CHECK (type IN ('local', 'remote')),
    enabled BOOLEAN NOT NULL DEFAULT true,
    last_synced_at TIMESTAMP,
    plugin_count INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

-- Every version of a plugin is kept: unique on (repository, name, version).
CREATE TABLE catalog_plugins (
    id SERIAL PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES catalog_repositories(id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$' AND name <> 'marketplace'),
    version TEXT NOT NULL,
    display_name TEXT,
    description TEXT,
    category TEXT,
    plugin_type TEXT,
    icon_url TEXT,
    manifest JSONB,
    tags TEXT[],
    author TEXT,
    license TEXT,
    homepage TEXT,
    download_url TEXT,
    sha256 TEXT,
    abi INTEGER,
    arch TEXT,
    install_count INTEGER DEFAULT 0,
    avg_rating NUMERIC(3,2),
    rating_count INTEGER DEFAULT 0,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),
    UNIQUE (repository_id, name, version)
);
CREATE INDEX catalog_plugins_name ON catalog_plugins (name);

-- The desired state: the supervisor makes the running hosts match it.
CREATE TABLE installed_plugins (
    id SERIAL PRIMARY KEY,
    catalog_plugin_id INTEGER REFERENCES catalog_plugins(id) ON DELETE SET NULL,
    name TEXT UNIQUE NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$' AND name <> 'marketplace'),
    version TEXT NOT NULL,
    enabled BOOLEAN DEFAULT true,
    config JSONB,
    installed_by TEXT,
    installed_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

CREATE TABLE plugin_storage (
    plugin_name TEXT NOT NULL,
    key TEXT NOT NULL,
    value JSONB NOT NULL,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),
    PRIMARY KEY (plugin_name, key)
);

-- Bearer tokens, stored only as hex SHA-256. A name is unique among live tokens.
CREATE TABLE api_tokens (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    token_hash TEXT UNIQUE NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    role TEXT NOT NULL CHECK (role IN ('admin', 'service', 'viewer')),
    created_at TIMESTAMP DEFAULT NOW(),
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- One rating per user and plugin (by name, across versions).
CREATE TABLE plugin_ratings (
    id SERIAL PRIMARY KEY,
    plugin_name TEXT NOT NULL,
    user_name TEXT NOT NULL,
    rating SMALLINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    review TEXT,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),
    UNIQUE (plugin_name, user_name)
);
