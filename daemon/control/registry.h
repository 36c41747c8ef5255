/*
 * The plugin registry: installed_plugins in PostgreSQL is the desired state,
 * and the registry makes the supervisor's running hosts match it. It applies
 * the schema migrations at start-up, lists the plugin directory as the
 * built-in "local" catalog repository, starts every enabled plugin, serves
 * the marketplace REST API, authenticates bearer tokens, and converges on
 * every change announced with NOTIFY (by this daemon, another daemon sharing
 * the database, or plain SQL).
 */
#ifndef SS_REGISTRY_H
#define SS_REGISTRY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct supervisor;
struct api;
struct registry;

struct registry_options {
	const char *conninfo;	/* libpq URI or key=value string ("" uses PG* variables) */
	const char *plugin_dir; /* <dir>/<name>/manifest.json + .so; may be NULL */
	const char *host_path;	/* the plugin host, asked for its built-in plugins */
	/*
	 * Where installed plugins' files are copied (one directory per plugin).
	 * NULL: $STREAMSPACE_INSTALL_DIR, else <plugin_dir>/.installed, else
	 * /var/lib/streamspace/plugins. Never the plugin directory itself.
	 */
	const char *install_dir;
	int pool_size; /* database connections for queries; 0: 4 */
};

/*
 * Connects to the database, applies pending migrations, scans the plugin
 * directory, loads the token cache, registers the marketplace routes and the
 * authenticator on api, and starts every enabled plugin. The start-up part is
 * synchronous (before the loop serves); everything after runs on the reactor.
 * Returns NULL with a message in err when the database cannot be used.
 */
struct registry *registry_new(struct event_base *base, struct supervisor *sup, struct api *api,
			      const struct registry_options *opts, char *err, size_t errlen);
/* Stops listening and closes the database connections; plugins are left to the supervisor. */
void registry_free(struct registry *reg);

/* ---- for the marketplace API (api_marketplace.c, api_catalog.c, api_call.c) ---- */

struct db;
struct token_cache;
struct discovered;

struct db *registry_db(struct registry *reg);
struct token_cache *registry_tokens(struct registry *reg);
struct supervisor *registry_supervisor(struct registry *reg);

/*
 * Installed plugins as JSON rows, one per row of the result: $1 a name, or
 * NULL for all. Each row is {name, version, enabled, config, installedBy,
 * installedAt, updatedAt, schema} (schema: the manifest's configSchema).
 */
extern const char registry_rows_sql[];

/* Rescans the plugin directory; when it changed, updates the local catalog, then calls done. */
void registry_refresh_catalog(struct registry *reg, void (*done)(bool ok, void *arg), void *arg);
/* The plugin directory's entry for name (after the last scan), or NULL. */
const struct discovered *registry_discovered(struct registry *reg, const char *name);

/*
 * Makes the running state of name match row (NULL: not installed): copies
 * or removes its files, starts, stops or reconfigures its host. With
 * restart_failed, a plugin the supervisor gave up on is started again.
 * Returns 0, or -1 with a message (also kept for the plugin's status).
 */
int registry_apply(struct registry *reg, const char *name, json_object *row, bool restart_failed,
		   char *err, size_t errlen);

/*
 * What the API shows of an installed plugin: row with its configuration's
 * secrets masked, schema dropped, and "runtime" from the supervisor (plus
 * "error" when the registry could not apply it). A new object.
 */
json_object *registry_view(struct registry *reg, json_object *row);

#endif
