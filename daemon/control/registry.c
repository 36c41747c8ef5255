/*
 * The registry: desired state in installed_plugins, actual state in the
 * supervisor, and this module in between. Every path that changes the
 * desired state ends in registry_apply() for one plugin, or resync() for
 * all of them: an API call (right after its statement commits), a NOTIFY
 * from installed_plugins' trigger (this daemon, another daemon, plain SQL),
 * and the listener (re)connecting, after which notifications may have been
 * missed.
 */
#include "registry.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "api_marketplace.h"
#include "db.h"
#include "discovery.h"
#include "json.h"
#include "log.h"
#include "manifest.h"
#include "migrate.h"
#include "names.h"
#include "secrets.h"
#include "supervisor.h"
#include "token.h"
#include "xmalloc.h"

#define CHANNEL_PLUGINS "ss_installed_plugins"
#define CHANNEL_TOKENS "ss_api_tokens"

/* What this daemon last applied for one plugin. */
struct applied {
	char *name;
	char *version;
	char *config; /* canonical JSON text */
	bool enabled;
	bool fetching; /* a NOTIFY-driven fetch is in flight */
	bool refetch;  /* another NOTIFY came meanwhile */
	char *error;   /* why the last apply failed, or NULL */
	struct timespec so_mtime;
	struct applied *next;
};

struct registry {
	struct event_base *base;
	struct supervisor *sup;
	struct api *api;
	struct db *db;
	struct token_cache *tokens;
	char *plugin_dir;
	struct discovery builtins; /* the host's built-in plugins, listed once */
	char *install_dir;
	char *repo_url;
	struct discovery disc;
	bool resyncing, resync_again;
	struct applied *applied; /* a list: a handful of plugins */
	struct discovery_watch *watch;
};

const char registry_rows_sql[] =
    "SELECT row_to_json(t)::text, t.name FROM (SELECT i.name, i.version, COALESCE(i.enabled, false)"
    " AS enabled, COALESCE(i.config, '{}'::jsonb) AS config, i.installed_by AS \"installedBy\","
    " i.installed_at AS \"installedAt\", i.updated_at AS \"updatedAt\","
    " c.manifest->'configSchema' AS schema"
    " FROM installed_plugins i LEFT JOIN catalog_plugins c ON c.id = i.catalog_plugin_id"
    " WHERE $1::text IS NULL OR i.name = $1 ORDER BY i.name) t";

struct db *registry_db(struct registry *reg)
{
	return reg->db;
}

struct token_cache *registry_tokens(struct registry *reg)
{
	return reg->tokens;
}

struct supervisor *registry_supervisor(struct registry *reg)
{
	return reg->sup;
}

const struct discovered *registry_discovered(struct registry *reg, const char *name)
{
	return discovery_find(&reg->disc, name);
}

static struct applied *applied_find(struct registry *reg, const char *name)
{
	struct applied *a;

	for (a = reg->applied; a != NULL; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static struct applied *applied_get(struct registry *reg, const char *name)
{
	struct applied *a = applied_find(reg, name);

	if (a == NULL) {
		a = xcalloc(1, sizeof *a);
		a->name = xstrdup(name);
		a->next = reg->applied;
		reg->applied = a;
	}
	return a;
}

static void applied_free(struct registry *reg, struct applied *a)
{
	struct applied **pp = &reg->applied;

	while (*pp != a)
		pp = &(*pp)->next;
	*pp = a->next;
	free(a->name);
	free(a->version);
	free(a->config);
	free(a->error);
	free(a);
}

static void set_error(struct applied *a, const char *msg)
{
	free(a->error);
	a->error = msg ? xstrdup(msg) : NULL;
}

static const char *row_str(json_object *row, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(row, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Reads <dir>/manifest.json; NULL with a message. */
static struct manifest *load_manifest(const char *dir, char *err, size_t errlen)
{
	char *path = xasprintf("%s/manifest.json", dir);
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len;
	struct manifest *m = NULL;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	buf = xmalloc(MANIFEST_MAX_BYTES + 1);
	len = fread(buf, 1, MANIFEST_MAX_BYTES + 1, f);
	fclose(f);
	m = manifest_parse(buf, len, err, errlen);
	free(buf);
	free(path);
	return m;
}

static bool same_mtime(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Makes <install_dir>/<name> hold version of the plugin: keeps what is
 * there when it is that version and its shared object matches the plugin
 * directory's, copies from the plugin directory otherwise. Sets *changed
 * when it copied. Returns the installed manifest, or NULL with a message.
 */
static struct manifest *ensure_files(struct registry *reg, const char *name, const char *version,
				     bool *changed, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/%s", reg->install_dir, name);
	const struct discovered *d = discovery_find(&reg->disc, name);
	struct manifest *m = load_manifest(dir, err, errlen);
	struct stat src, dst;

	*changed = false;
	if (d != NULL && discovery_is_builtin(d)) {
		/* Compiled into the host: nothing to copy, the version is the host's. */
		manifest_free(m);
		m = NULL;
		if (strcmp(d->manifest->version, version) != 0)
			snprintf(err, errlen, "the built-in %s is version %s, not %s", name,
				 d->manifest->version, version);
		else
			m = manifest_from_json(d->manifest->json, err, errlen);
		goto out;
	}
	if (m && strcmp(m->version, version) == 0) {
		char *so = xasprintf("%s/%s", dir, m->entry_main);
		bool fresh = stat(so, &dst) == 0 &&
			     (d == NULL || strcmp(d->manifest->version, version) != 0 ||
			      (stat(d->so_path, &src) == 0 && same_mtime(&src, &dst)));

		free(so);
		if (fresh)
			goto out;
	}
	manifest_free(m);
	m = NULL;
	if (d == NULL) {
		/* Maybe it was dropped into the plugin directory a moment ago. */
		discovery_clear(&reg->disc);
		discovery_scan(reg->plugin_dir, &reg->disc);
		discovery_merge(&reg->disc, &reg->builtins);
		d = discovery_find(&reg->disc, name);
	}
	if (d == NULL || strcmp(d->manifest->version, version) != 0) {
		snprintf(err, errlen, "version %s of %s is not in the plugin directory (%s)",
			 version, name, reg->plugin_dir ? reg->plugin_dir : "none");
		goto out;
	}
	if (discovery_copy_dir(d->dir, reg->install_dir, name, err, errlen) < 0)
		goto out;
	*changed = true;
	m = load_manifest(dir, err, errlen);
out:
	free(dir);
	return m;
}

static void remove_files(struct registry *reg, const char *name)
{
	char *dir;

	if (discovery_find(&reg->builtins, name) != NULL)
		return; /* a built-in has no files of its own */
	dir = xasprintf("%s/%s", reg->install_dir, name);
	if (discovery_remove_tree(dir) < 0)
		log_warn("registry", "%s: removing %s: %s", name, dir, strerror(errno));
	free(dir);
}

/* Whether the supervisor's state for name is want ("failed", "stopping"). */
static bool sup_state_is(struct supervisor *sup, const char *name, const char *want)
{
	json_object *st = supervisor_status(sup, name), *v;
	bool is = false;

	if (st && json_object_object_get_ex(st, "state", &v))
		is = strcmp(json_object_get_string(v), want) == 0;
	json_object_put(st);
	return is;
}

/* Stops name's host unless it is already on its way out. */
static void stop_host(struct registry *reg, const char *name, const char *why)
{
	if (!supervisor_has(reg->sup, name) || sup_state_is(reg->sup, name, "stopping"))
		return;
	log_info("registry", "%s: %s: stopping", name, why);
	supervisor_stop(reg->sup, name);
}

int registry_apply(struct registry *reg, const char *name, json_object *row, bool restart_failed,
		   char *err, size_t errlen)
{
	struct applied *a;
	struct manifest *m = NULL;
	json_object *config = NULL, *v;
	const char *version, *cfgtext;
	bool enabled, changed = false;
	char *so = NULL;
	int rc = -1;

	if (row == NULL) {
		stop_host(reg, name, "uninstalled");
		remove_files(reg, name);
		if ((a = applied_find(reg, name)) != NULL && !a->fetching)
			applied_free(reg, a);
		else if (a)
			set_error(a, NULL);
		return 0;
	}
	a = applied_get(reg, name);
	version = row_str(row, "version");
	enabled = json_object_object_get_ex(row, "enabled", &v) && json_object_get_boolean(v);
	if (!json_object_object_get_ex(row, "config", &config) ||
	    !json_object_is_type(config, json_type_object))
		config = NULL;
	if (version == NULL) {
		snprintf(err, errlen, "%s: the row has no version", name);
		goto fail;
	}
	m = ensure_files(reg, name, version, &changed, err, errlen);
	if (m == NULL)
		goto fail;
	if (!enabled) {
		stop_host(reg, name, "disabled");
		a->enabled = false;
		set_error(a, NULL);
		rc = 0;
		goto out;
	}
	config = config ? json_object_get(config) : json_object_new_object();
	cfgtext = json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN);
	if (a->enabled && !changed && supervisor_has(reg->sup, name) && a->version &&
	    strcmp(a->version, version) == 0 &&
	    !(restart_failed && sup_state_is(reg->sup, name, "failed"))) {
		if (a->config == NULL || strcmp(a->config, cfgtext) != 0) {
			json_object *secrets = secrets_values(config, m->config_schema);

			log_info("registry", "%s: configuration changed", name);
			/* Before the host has the new config, so it can never log it unredacted. */
			supervisor_set_secrets(reg->sup, name, secrets);
			json_object_put(secrets);
			if (supervisor_configure(reg->sup, name, config) < 0) {
				snprintf(err, errlen, "%s: the new configuration was not accepted",
					 name);
				json_object_put(config);
				goto fail;
			}
			free(a->config);
			a->config = xstrdup(cfgtext);
		}
		json_object_put(config);
		set_error(a, NULL);
		rc = 0;
		goto out;
	}
	if (discovery_find(&reg->builtins, name) != NULL)
		so = xasprintf("builtin:%s", name);
	else
		so = xasprintf("%s/%s/%s", reg->install_dir, name, m->entry_main);
	{
		struct plugin_spec spec = {
		    .name = name,
		    .path = so,
		    .config = config,
		    .permissions = m->permissions,
		    .mem_limit = m->mem_limit,
		    .event_timeout_ms = m->event_timeout_ms,
		    .handshake_timeout_ms = m->handshake_timeout_ms,
		    .secrets = secrets_values(config, m->config_schema),
		};
		int started;

		log_info("registry", "%s: starting version %s", name, version);
		started = supervisor_run(reg->sup, &spec, err, errlen);
		json_object_put(spec.secrets);
		if (started < 0) {
			json_object_put(config);
			goto fail;
		}
	}
	a->enabled = true;
	free(a->version);
	a->version = xstrdup(version);
	free(a->config);
	a->config = xstrdup(cfgtext);
	json_object_put(config);
	set_error(a, NULL);
	rc = 0;
	goto out;
fail:
	log_error("registry", "%s: %s", name, err);
	set_error(a, err);
	/* Whatever ran before is not what is wanted any more. */
	if (m == NULL || !enabled)
		stop_host(reg, name, "cannot be applied");
	a->enabled = false;
out:
	free(so);
	manifest_free(m);
	return rc;
}

json_object *registry_view(struct registry *reg, json_object *row)
{
	json_object *out = json_object_new_object(), *config = NULL, *schema = NULL, *rt;
	const char *name = row_str(row, "name");
	const struct discovered *d;
	struct applied *a;

	json_object_object_get_ex(row, "config", &config);
	json_object_object_get_ex(row, "schema", &schema);
	if (!json_object_is_type(schema, json_type_object) && name &&
	    (d = discovery_find(&reg->disc, name)) != NULL)
		schema = d->manifest->config_schema;
	struct json_object_iter it;

	json_object_object_foreachC(row, it)
	{
		const char *key = it.key;
		json_object *val = it.val;

		if (strcmp(key, "schema") == 0)
			continue;
		if (strcmp(key, "config") == 0)
			json_object_object_add(out, key, secrets_mask(config, schema));
		else
			json_object_object_add(out, key, json_object_get(val));
	}
	rt = name ? supervisor_status(reg->sup, name) : NULL;
	json_object_object_add(out, "runtime", rt);
	a = name ? applied_find(reg, name) : NULL;
	json_object_object_add(out, "error",
			       a && a->error ? json_object_new_string(a->error) : NULL);
	return out;
}

/*
 * Parses row i of a registry_rows_sql result (column 0, its JSON). A row that
 * does not read back (a config written in plain SQL deeper than any reader
 * allows) is an error of that plugin, named by column 1, never a NULL that
 * would mean "not installed": its host and files stay as they are.
 */
static json_object *parse_row(struct registry *reg, const PGresult *res, int i)
{
	char err[JSON_ERR_MAX], msg[JSON_ERR_MAX + 64];
	const char *text = PQgetvalue(res, i, 0), *name = PQgetvalue(res, i, 1);
	json_object *o = json_read_object(text, strlen(text), JSON_MAX_DEPTH, err, sizeof err);

	if (o == NULL && name_plugin_valid(name)) {
		snprintf(msg, sizeof msg, "its stored row does not read back: %s", err);
		log_error("registry", "%s: %s", name, msg);
		set_error(applied_get(reg, name), msg);
	}
	return o;
}

static bool is_plugin_copy(const char *dir)
{
	char *manifest = xasprintf("%s/manifest.json", dir);
	struct stat st;
	bool yes = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && lstat(manifest, &st) == 0 &&
		   S_ISREG(st.st_mode);

	free(manifest);
	return yes;
}

/* Removes files in the install directory of plugins that are not installed. */
static void sweep_install_dir(struct registry *reg, const PGresult *res)
{
	DIR *dp = opendir(reg->install_dir);
	struct dirent *de;

	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		bool keep = false;
		char *path;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* Leftover temporary copies are ours to remove; other names are not. */
		if (de->d_name[0] != '.' && !name_plugin_valid(de->d_name))
			continue;
		if (de->d_name[0] == '.' && strstr(de->d_name, ".tmp-") == NULL)
			continue;
		for (int i = 0; res && i < PQntuples(res) && !keep; i++)
			keep = strcmp(PQgetvalue(res, i, 1), de->d_name) == 0;
		if (keep)
			continue;
		path = xasprintf("%s/%s", reg->install_dir, de->d_name);
		/* Only what looks like a copy made by install: a directory with a manifest. */
		if (de->d_name[0] == '.' || is_plugin_copy(path)) {
			log_info("registry", "removing files of a plugin that is not installed: %s",
				 path);
			discovery_remove_tree(path);
		}
		free(path);
	}
	closedir(dp);
}

/* Applies every row of a registry_rows_sql result, and uninstalls the rest. */
static void apply_all(struct registry *reg, const PGresult *res)
{
	struct applied *a, *next;
	char err[512];

	for (int i = 0; i < PQntuples(res); i++) {
		json_object *row = parse_row(reg, res, i);
		const char *name = row ? row_str(row, "name") : NULL;

		if (name)
			registry_apply(reg, name, row, false, err, sizeof err);
		json_object_put(row);
	}
	for (a = reg->applied; a != NULL; a = next) {
		bool present = false;

		next = a->next;
		/* By column 1: a row that does not read back still names its plugin. */
		for (int i = 0; i < PQntuples(res) && !present; i++)
			present = strcmp(PQgetvalue(res, i, 1), a->name) == 0;
		if (!present && !a->fetching)
			registry_apply(reg, a->name, NULL, false, err, sizeof err);
	}
	sweep_install_dir(reg, res);
}

static void resync(struct registry *reg);

static void resync_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct registry *reg = arg;

	reg->resyncing = false;
	if (st == DB_OK)
		apply_all(reg, res);
	else
		log_warn("registry", "resynchronising failed: %s", err);
	if (reg->resync_again) {
		reg->resync_again = false;
		resync(reg);
	}
}

/* Reads the whole desired state and converges on it. */
static void resync(struct registry *reg)
{
	const char *params[1] = {NULL};

	if (reg->resyncing) {
		reg->resync_again = true;
		return;
	}
	if (db_query(reg->db, registry_rows_sql, 1, params, resync_done, reg) == 0)
		reg->resyncing = true;
}

struct fetch {
	struct registry *reg;
	char *name;
};

static void fetch_one(struct registry *reg, const char *name);

static void fetch_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct fetch *f = arg;
	struct registry *reg = f->reg;
	struct applied *a = applied_find(reg, f->name);
	bool again = false;
	char msg[512];

	if (a) {
		a->fetching = false;
		again = a->refetch;
		a->refetch = false;
	}
	if (st != DB_OK) {
		/* Down: the resync after the database returns covers this change. */
		log_msg(st == DB_DOWN ? LOG_LVL_DEBUG : LOG_LVL_WARN, "registry",
			"%s: reading the desired state failed: %s", f->name, err);
	} else if (PQntuples(res) == 0) {
		registry_apply(reg, f->name, NULL, false, msg, sizeof msg);
	} else {
		json_object *row = parse_row(reg, res, 0);

		if (row)
			registry_apply(reg, f->name, row, false, msg, sizeof msg);
		json_object_put(row);
	}
	/* A change announced while this fetch ran may not be in its answer. */
	if (again)
		fetch_one(reg, f->name);
	free(f->name);
	free(f);
}

/*
 * Reads one plugin's desired state and applies it. Fetches of one plugin
 * are serialised, so an older answer never overtakes a newer one.
 */
static void fetch_one(struct registry *reg, const char *name)
{
	struct applied *a = applied_get(reg, name);
	const char *params[1] = {name};
	struct fetch *f;

	if (a->fetching) {
		a->refetch = true;
		return;
	}
	f = xcalloc(1, sizeof *f);
	f->reg = reg;
	f->name = xstrdup(name);
	if (db_query(reg->db, registry_rows_sql, 1, params, fetch_done, f) < 0) {
		/* The database is away; the resync after it comes back covers this. */
		free(f->name);
		free(f);
		return;
	}
	a->fetching = true;
}

static void on_notify(const char *channel, const char *payload, void *arg)
{
	struct registry *reg = arg;

	if (strcmp(channel, CHANNEL_TOKENS) == 0) {
		token_cache_reload(reg->tokens);
		return;
	}
	log_debug("registry", "notified: %s", payload);
	if (name_plugin_valid(payload))
		fetch_one(reg, payload);
	else
		resync(reg);
}

static void sync_catalog_done(enum db_status st, PGresult *res, const char *err, void *arg);

struct refresh {
	void (*done)(bool ok, void *arg);
	void *arg;
};

static void sync_catalog_done(enum db_status st, PGresult *res, const char *err, void *arg)
{
	struct refresh *r = arg;

	if (st != DB_OK)
		log_warn("registry", "updating the local catalog failed: %s", err);
	if (r) {
		if (r->done)
			r->done(st == DB_OK, r->arg);
		free(r);
	}
}

/* Queues the local catalog update; calls done (when set) with the outcome. */
static int sync_catalog(struct registry *reg, void (*done)(bool, void *), void *arg)
{
	char *json = discovery_catalog_json(&reg->disc);
	const char *params[2] = {reg->repo_url, json};
	struct refresh *r = xcalloc(1, sizeof *r);
	int rc;

	r->done = done;
	r->arg = arg;
	rc = db_query(reg->db, discovery_sync_sql, 2, params, sync_catalog_done, r);
	if (rc < 0)
		free(r);
	free(json);
	return rc;
}

void registry_refresh_catalog(struct registry *reg, void (*done)(bool ok, void *arg), void *arg)
{
	struct discovery fresh;

	discovery_scan(reg->plugin_dir, &fresh);
	discovery_merge(&fresh, &reg->builtins);
	if (discovery_same(&fresh, &reg->disc)) {
		discovery_clear(&fresh);
		done(true, arg);
		return;
	}
	discovery_clear(&reg->disc);
	reg->disc = fresh;
	log_info("registry", "plugin directory changed: %zu plugins", reg->disc.n);
	if (sync_catalog(reg, done, arg) < 0)
		done(false, arg);
}

/* Something changed in the plugin directory: update the local catalog. */
static void rescanned(bool ok, void *arg)
{
	(void)ok;
	(void)arg;
}

static void on_plugin_dir_change(void *arg)
{
	registry_refresh_catalog(arg, rescanned, NULL);
}

static void on_db_state(bool up, void *arg)
{
	struct registry *reg = arg;

	if (!up)
		return;
	/* Notifications may have been missed while the listener was away. */
	token_cache_reload(reg->tokens);
	sync_catalog(reg, NULL, NULL);
	resync(reg);
}

/* Runs a statement synchronously at start-up; -1 with a message. */
static PGresult *startup_exec(PGconn *conn, const char *sql, int n, const char *const *params,
			      const char *what, char *err, size_t errlen)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "%s: %s", what, PQresultErrorMessage(res));
		err[strcspn(err, "\n")] = '\0';
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * The synchronous part of start-up, before the loop serves: schema, local
 * catalog, tokens, and every enabled plugin started.
 */
static int startup(struct registry *reg, const char *conninfo, char *err, size_t errlen)
{
	PGconn *conn = db_connect_params(conninfo, false);
	PGresult *res = NULL;
	const char *params[2] = {NULL, NULL};
	char *json = NULL;
	int applied, rc = -1;

	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "connecting to the database: %s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
		goto out;
	}
	/* Start-up blocks by design; a database that stops answering must not hang it forever. */
	PQclear(PQexec(conn, "SET statement_timeout = 60000"));
	applied = migrate_apply(conn, migration_table, migration_count, err, errlen);
	if (applied < 0)
		goto out;
	log_info("registry", "schema at version %d (%d migration%s applied now)",
		 migration_count ? migration_table[migration_count - 1].version : 0, applied,
		 applied == 1 ? "" : "s");
	json = discovery_catalog_json(&reg->disc);
	params[0] = reg->repo_url;
	params[1] = json;
	res = startup_exec(conn, discovery_sync_sql, 2, params, "updating the local catalog", err,
			   errlen);
	if (res == NULL)
		goto out;
	PQclear(res);
	if (token_cache_load_sync(reg->tokens, conn, err, errlen) < 0)
		goto out;
	params[0] = NULL;
	res = startup_exec(conn, registry_rows_sql, 1, params, "reading installed plugins", err,
			   errlen);
	if (res == NULL)
		goto out;
	log_info("registry", "%d installed plugin%s, %zu in the plugin directory", PQntuples(res),
		 PQntuples(res) == 1 ? "" : "s", reg->disc.n);
	apply_all(reg, res);
	PQclear(res);
	rc = 0;
out:
	free(json);
	PQfinish(conn);
	return rc;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "creating %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct registry *registry_new(struct event_base *base, struct supervisor *sup, struct api *api,
			      const struct registry_options *opts, char *err, size_t errlen)
{
	struct registry *reg = xcalloc(1, sizeof *reg);
	const char *env = getenv("STREAMSPACE_INSTALL_DIR");
	char abs[PATH_MAX];

	reg->base = base;
	reg->sup = sup;
	reg->api = api;
	if (opts->plugin_dir && *opts->plugin_dir) {
		if (realpath(opts->plugin_dir, abs) == NULL) {
			snprintf(err, errlen, "plugin directory %s: %s", opts->plugin_dir,
				 strerror(errno));
			goto fail;
		}
		reg->plugin_dir = xstrdup(abs);
	}
	if (opts->install_dir)
		reg->install_dir = xstrdup(opts->install_dir);
	else if (env && *env)
		reg->install_dir = xstrdup(env);
	else if (reg->plugin_dir)
		reg->install_dir = xasprintf("%s/.installed", reg->plugin_dir);
	else
		reg->install_dir = xstrdup("/var/lib/streamspace/plugins");
	if (make_dir(reg->install_dir, err, errlen) < 0)
		goto fail;
	if (realpath(reg->install_dir, abs) == NULL) {
		snprintf(err, errlen, "install directory %s: %s", reg->install_dir,
			 strerror(errno));
		goto fail;
	}
	free(reg->install_dir);
	reg->install_dir = xstrdup(abs);
	/* Uninstalling removes copies there: it must never be the plugin directory itself. */
	if (reg->plugin_dir && strcmp(reg->install_dir, reg->plugin_dir) == 0) {
		snprintf(err, errlen, "the install directory (%s) must not be the plugin directory",
			 reg->install_dir);
		goto fail;
	}
	reg->repo_url = xasprintf("file://%s", reg->plugin_dir ? reg->plugin_dir : "");
	discovery_builtins(opts->host_path, &reg->builtins);
	discovery_scan(reg->plugin_dir, &reg->disc);
	discovery_merge(&reg->disc, &reg->builtins);
	reg->tokens = token_cache_new(NULL);
	if (startup(reg, opts->conninfo ? opts->conninfo : "", err, errlen) < 0)
		goto fail;
	reg->db = db_new(base, opts->conninfo, opts->pool_size);
	token_cache_set_db(reg->tokens, reg->db);
	db_listen(reg->db, CHANNEL_PLUGINS, on_notify, reg);
	db_listen(reg->db, CHANNEL_TOKENS, on_notify, reg);
	db_on_state(reg->db, on_db_state, reg);
	api_marketplace_register(api, reg);
	api_set_auth(api, token_cache_auth, reg->tokens);
	reg->watch = discovery_watch_new(base, reg->plugin_dir, on_plugin_dir_change, reg);
	return reg;
fail:
	registry_free(reg);
	return NULL;
}

void registry_free(struct registry *reg)
{
	struct applied *a;

	if (reg == NULL)
		return;
	/* Pending queries finish (DB_DOWN) while everything they touch still exists. */
	db_free(reg->db);
	discovery_watch_free(reg->watch);
	if (reg->api)
		api_set_auth(reg->api, NULL, NULL);
	token_cache_free(reg->tokens);
	while ((a = reg->applied) != NULL)
		applied_free(reg, a);
	discovery_clear(&reg->disc);
	discovery_clear(&reg->builtins);
	free(reg->plugin_dir);
	free(reg->install_dir);
	free(reg->repo_url);
	free(reg);
}
