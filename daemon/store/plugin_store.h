/*
 * installed_plugins: every statement that reads or changes it, and the one
 * shape a row has in the daemon (struct plugin_row). Rows come back as
 * columns, never as JSON text to be re-parsed by whoever holds them; the
 * JSON columns (config, the catalog's configSchema) are parsed here, once.
 *
 * A row that exists but cannot be read (a config PostgreSQL holds and the
 * daemon cannot parse) is still a row: it has error set. "No row" is only
 * ever said by a result without that plugin, so an unreadable row can never
 * be mistaken for an uninstall.
 */
#ifndef SS_PLUGIN_STORE_H
#define SS_PLUGIN_STORE_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "db.h"

struct db;

struct plugin_row {
	char *name;
	char *version;
	bool enabled;
	json_object *config; /* an object; NULL only when error is set */
	json_object *schema; /* the catalog manifest's configSchema, or NULL */
	char *installed_by;  /* NULL when not recorded */
	char *installed_at;  /* ISO 8601, as JSON has timestamps */
	char *updated_at;
	char *previous_version; /* what ran before the last version change, or NULL */
	char *error;		/* the row exists but cannot be used: why; else NULL */
};

struct plugin_rows {
	struct plugin_row *v;
	size_t n;
	/*
	 * For the statements that change one plugin: whether the name is known
	 * at all (in the catalog or installed), so 404 and 409 can be told apart.
	 */
	bool known;
};

/* How a statement went: st as db.h says, err a one-line message, sqlstate "" or "22P02". */
struct store_status {
	enum db_status st;
	const char *err;
	const char *sqlstate;
};

/* rows is borrowed for the call (freed after it). */
typedef void (*plugin_store_fn)(const struct store_status *s, const struct plugin_rows *rows,
				void *arg);

/*
 * Each function queues one statement and calls fn exactly once; -1 (fn not
 * called) when the database is away (db_query's contract).
 */

/* The rows of name, or of every plugin when name is NULL, ordered by name. */
int plugin_store_get(struct db *db, const char *name, plugin_store_fn fn, void *arg);
/*
 * A new row for name at version (the local catalog's entry, when it has one),
 * enabled, with config_text; counts the install. No row when name is taken.
 */
int plugin_store_insert(struct db *db, const char *name, const char *version,
			const char *config_text, const char *user, plugin_store_fn fn, void *arg);
/*
 * Takes back the row insert made (install failed before it was announced as
 * done): only while it is still at version, with its install uncounted.
 */
int plugin_store_uninsert(struct db *db, const char *name, const char *version, plugin_store_fn fn,
			  void *arg);
/*
 * Moves name from version from to version to, recording previous as
 * previous_version (NULL: none), with config_text (NULL keeps the
 * configuration). No row when name is not at from any more.
 */
int plugin_store_set_version(struct db *db, const char *name, const char *from, const char *to,
			     const char *previous, const char *config_text, plugin_store_fn fn,
			     void *arg);
int plugin_store_set_enabled(struct db *db, const char *name, bool enabled, plugin_store_fn fn,
			     void *arg);
int plugin_store_set_config(struct db *db, const char *name, const char *config_text,
			    plugin_store_fn fn, void *arg);
/*
 * Deletes the row, and with purge the plugin's storage (kept otherwise, for
 * a later install); the deleted row (name, version) comes back.
 */
int plugin_store_delete(struct db *db, const char *name, bool purge, plugin_store_fn fn, void *arg);

/*
 * Announces what changed of name's row since it was last announced
 * (ss_plugin_announce, migration 0008: plugin.installed, .upgraded,
 * .enabled, .disabled, .uninstalled into the outbox, once however many
 * daemons ask); a failure is logged. -1 when the database is away.
 */
int plugin_store_announce(struct db *db, const char *name);
/* The same for every plugin, synchronously (start-up): the events made, or -1 with a message. */
int plugin_store_announce_sync(PGconn *conn, char *err, size_t errlen);

/* Start-up (before the loop serves): every row, synchronously on conn. 0, or -1 with a message. */
int plugin_store_get_sync(PGconn *conn, struct plugin_rows *out, char *err, size_t errlen);

/* Reads a result of the statements above into out (caller clears it). */
void plugin_rows_from_result(const PGresult *res, struct plugin_rows *out);
void plugin_rows_clear(struct plugin_rows *rows);
/* The row of name, or NULL. */
const struct plugin_row *plugin_rows_find(const struct plugin_rows *rows, const char *name);
/* A deep copy of r into out (caller frees with plugin_row_clear). */
void plugin_row_copy(struct plugin_row *out, const struct plugin_row *r);
void plugin_row_clear(struct plugin_row *r);

#endif
