/*
 * The registry: the verbs of the control plane over installed plugins, and
 * start-up. Each verb runs one plugin_store statement, hands the row to the
 * applier (apply.c), and completes once the applier says how it went; the
 * convergence on changes made elsewhere is converge.c's.
 */
#define _GNU_SOURCE
#include "registry.h"

#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "market.h"
#include "converge.h"
#include "db.h"
#include "discovery.h"
#include "installdir.h"
#include "log.h"
#include "manifest.h"
#include "migrate.h"
#include "names.h"
#include "plugin_store.h"
#include "pkgfetch.h"
#include "repo_store.h"
#include "schema.h"
#include "secrets.h"
#include "supervisor.h"
#include "token.h"
#include "view.h"
#include "worker.h"
#include "xmalloc.h"

struct registry {
	struct fetch *fetch;
	const struct package_trust *trust;
	struct event_base *base;
	struct supervisor *sup;
	struct db *db;
	struct token_cache *tokens;
	struct market *cat;
	const struct discovery *builtins;
	struct worker *worker;
	struct installdir *dir;
	struct discovery_cache *cache;
	struct applier *ap;
	struct converge *cv;
	char *plugin_dir;
};

/* Something changed in the plugin directory: the local catalog follows. */
static void on_plugins_changed(void *arg)
{
	struct registry *reg = arg;

	market_sync_local(reg->cat, discovery_cache_list(reg->cache));
	if (reg->cv != NULL) /* hot reload: a changed .so of an enabled plugin */
		converge_resync(reg->cv);
}

/*
 * The synchronous part of start-up, before the loop serves: schema, local
 * catalog, tokens, and every enabled plugin applied.
 */
static int startup(struct registry *reg, const char *conninfo, char *err, size_t errlen)
{
	PGconn *conn = db_connect_params(conninfo, false);
	struct plugin_rows rows = {0};
	int applied, rc = -1;

	if (PQstatus(conn) != CONNECTION_OK) {
		db_error_line(err, errlen, "connecting to the database", PQerrorMessage(conn));
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
	if (market_sync_local_now(reg->cat, conn, discovery_cache_list(reg->cache), err, errlen) <
	    0)
		goto out;
	if (token_cache_load_sync(reg->tokens, conn, err, errlen) < 0)
		goto out;
	if (plugin_store_get_sync(conn, &rows, err, errlen) < 0)
		goto out;
	log_info("registry", "%zu installed plugin%s, %zu in the plugin directory", rows.n,
		 rows.n == 1 ? "" : "s", discovery_cache_list(reg->cache)->n);
	converge_rows(reg->cv, &rows);
	/* Copies made and stale ones swept before anything is served. */
	worker_drain(reg->worker);
	rc = 0;
out:
	plugin_rows_clear(&rows);
	PQfinish(conn);
	return rc;
}

struct registry *registry_new(struct event_base *base, struct supervisor *sup, struct db *db,
			      struct token_cache *tokens, struct market *cat,
			      const struct discovery *builtins, const struct registry_options *opts,
			      char *err, size_t errlen)
{
	struct registry *reg = xcalloc(1, sizeof *reg);
	char abs[PATH_MAX];

	reg->base = base;
	reg->sup = sup;
	reg->db = db;
	reg->tokens = tokens;
	reg->cat = cat;
	reg->builtins = builtins;
	if (opts->plugin_dir && *opts->plugin_dir) {
		if (realpath(opts->plugin_dir, abs) == NULL) {
			snprintf(err, errlen, "plugin directory %s: %s", opts->plugin_dir,
				 strerror(errno));
			goto fail;
		}
		reg->plugin_dir = xstrdup(abs);
	}
	reg->worker = worker_new(base);
	reg->fetch = opts->fetch;
	reg->trust = opts->trust;
	reg->dir = installdir_open(reg->worker, opts->install_dir, reg->plugin_dir, err, errlen);
	if (reg->dir == NULL)
		goto fail;
	reg->cache = discovery_cache_new(base, reg->worker, reg->plugin_dir, builtins,
					 on_plugins_changed, reg);
	reg->ap = applier_new(sup, reg->dir, reg->cache, builtins, opts->egress, opts->jobs);
	reg->cv = converge_new(db, reg->ap, reg->dir, tokens, cat, reg->cache);
	if (startup(reg, opts->conninfo ? opts->conninfo : "", err, errlen) < 0)
		goto fail;
	token_cache_set_db(tokens, db);
	converge_listen(reg->cv);
	return reg;
fail:
	registry_free(reg);
	return NULL;
}

struct worker *registry_worker(struct registry *reg)
{
	return reg->worker;
}

void registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	/* File work still queued ends quietly; nothing more reaches the supervisor. */
	applier_close(reg->ap);
	worker_free(reg->worker);
	discovery_cache_free(reg->cache);
	applier_free(reg->ap);
	converge_free(reg->cv);
	installdir_free(reg->dir);
	free(reg->plugin_dir);
	free(reg);
}

/* ---- verbs ---- */

struct call {
	struct registry *reg;
	char name[SS_NAME_MAX + 1];
	char *version;
	bool version_asked;
	json_object *config; /* as given (install), or the new one (configure) */
	char *config_text;   /* what is stored */
	char *user;
	bool enable;
	bool fetched;	       /* install: <install-dir>/<name> came from a catalog package */
	struct plugin_row row; /* the row acted on */
	char msg[768];
	verb_done_fn done;
	void *arg;
};

static struct call *call_new(struct registry *reg, const char *name, verb_done_fn done, void *arg)
{
	struct call *c = xcalloc(1, sizeof *c);

	c->reg = reg;
	if (name)
		snprintf(c->name, sizeof c->name, "%s", name);
	c->done = done;
	c->arg = arg;
	return c;
}

static void call_free(struct call *c)
{
	free(c->version);
	json_object_put(c->config);
	free(c->config_text);
	free(c->user);
	plugin_row_clear(&c->row);
	free(c);
}

/* Completes the verb (body consumed) and ends the call. */
static void answer(struct call *c, enum verb_code code, const char *msg, json_object *body)
{
	struct verb_result r = {.code = code, .message = msg ? msg : "", .body = body};

	/* A package fetched for an install that did not happen leaves nothing behind. */
	if (c->fetched && code != VERB_OK)
		installdir_remove(c->reg->dir, c->name, NULL, NULL);

	c->done(&r, c->arg);
	json_object_put(body);
	call_free(c);
}

static void answer_created(struct call *c, json_object *body)
{
	struct verb_result r = {.code = VERB_OK, .message = "", .body = body, .created = true};

	c->done(&r, c->arg);
	json_object_put(body);
	call_free(c);
}

static void failed(struct call *c, const struct store_status *s)
{
	if (c->fetched)
		installdir_remove(c->reg->dir, c->name, NULL, NULL);
	market_failure(s, c->name[0] ? c->name : "installed", c->done, c->arg);
	call_free(c);
}

/* A statement could not even be queued: the database is away. */
static void queued(struct call *c, int rc)
{
	if (rc < 0)
		failed(c, NULL);
}

static const struct discovered *discovered(struct registry *reg, const char *name)
{
	return discovery_find(discovery_cache_list(reg->cache), name);
}

/* The schema to mask with when the row's catalog entry has none. */
static json_object *fallback_schema(struct registry *reg, const char *name)
{
	const struct discovered *d = discovered(reg, name);

	return d ? d->manifest->config_schema : NULL;
}

static json_object *view(struct registry *reg, const struct plugin_row *row)
{
	return view_installed(row, fallback_schema(reg, row->name),
			      applier_error(reg->ap, row->name), reg->sup);
}

/* {"message": msg, "plugin": view}. */
static json_object *applied_body(struct registry *reg, const char *msg,
				 const struct plugin_row *row)
{
	json_object *out = json_object_new_object();

	json_object_object_add(out, "message", json_object_new_string(msg));
	json_object_object_add(out, "plugin", view(reg, row));
	return out;
}

/* Not installed: 409-like when the name is known anywhere, else unknown. */
static void not_installed(struct call *c, bool known)
{
	snprintf(c->msg, sizeof c->msg,
		 known || discovered(c->reg, c->name) ? "plugin %s is not installed"
						      : "no plugin named %s",
		 c->name);
	answer(c, known || discovered(c->reg, c->name) ? VERB_NOT_INSTALLED : VERB_NOT_FOUND,
	       c->msg, NULL);
}

/*
 * After enable, disable or an upgrade: the desired state changed (the row is
 * written); if it could not be applied, the message and the view's error
 * say why.
 */
static void changed_applied(const struct apply_outcome *o, void *arg)
{
	struct call *c = arg;

	answer(c, VERB_OK, "",
	       applied_body(c->reg, o->code == VERB_OK ? c->msg : o->message, &c->row));
}

/* Takes the one row of rows into c->row; false after answering when there is none. */
static bool take_row(struct call *c, const struct store_status *s, const struct plugin_rows *rows)
{
	if (s->st != DB_OK) {
		failed(c, s);
		return false;
	}
	if (rows->n == 0) {
		not_installed(c, rows->known);
		return false;
	}
	plugin_row_copy(&c->row, &rows->v[0]);
	return true;
}

/* -- install -- */

static void install_done(struct call *c, enum verb_code code, const char *msg, json_object *body)
{
	struct converge *cv = c->reg->cv;
	char name[SS_NAME_MAX + 1];

	snprintf(name, sizeof name, "%s", c->name);
	if (code == VERB_OK)
		answer_created(c, body);
	else
		answer(c, code, msg, body);
	converge_release(cv, name);
}

static void failed_removed(const struct apply_outcome *o, void *arg)
{
	struct call *c = arg;

	(void)o;
	install_done(c, VERB_START_FAILED, c->msg, NULL);
}

static void uninserted(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	(void)rows;
	if (s->st != DB_OK) {
		/* The row stays: say so; convergence applies it when the database is back. */
		log_error("registry", "%s: taking back the failed install: %s", c->name, s->err);
		snprintf(c->msg + strlen(c->msg), sizeof c->msg - strlen(c->msg),
			 " (and its row could not be removed: %s)", s->err);
	}
	applier_apply(c->reg->ap, c->name, NULL, 0, failed_removed, c);
}

static void install_applied(const struct apply_outcome *o, void *arg)
{
	struct call *c = arg;
	json_object *body;

	if (o->code != VERB_OK) {
		/* Nothing may stay of an install that cannot run: row, copy, host. */
		snprintf(c->msg, sizeof c->msg, "%s", o->message);
		if (plugin_store_uninsert(c->reg->db, c->name, c->version, uninserted, c) < 0) {
			struct store_status down = {.st = DB_DOWN, .err = "the database is away"};

			uninserted(&down, NULL, c);
		}
		return;
	}
	log_info("registry", "%s %s installed by %s", c->name, c->version, c->user);
	body = applied_body(c->reg, "Plugin installed and activated successfully", &c->row);
	install_done(c, VERB_OK, "", body);
}

static void upgraded(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (s->st != DB_OK) {
		failed(c, s);
		return;
	}
	if (rows->n == 0) {
		snprintf(c->msg, sizeof c->msg, "plugin %s is already installed at version %s",
			 c->name, c->version);
		answer(c, VERB_ALREADY, c->msg, NULL);
		return;
	}
	plugin_row_copy(&c->row, &rows->v[0]);
	log_info("registry", "%s changed to version %s by %s", c->name, c->version, c->user);
	snprintf(c->msg, sizeof c->msg, "Plugin changed to version %s", c->version);
	applier_apply(c->reg->ap, c->name, &c->row, APPLY_RESTART_FAILED, changed_applied, c);
}

static void inserted(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (s->st != DB_OK || rows->n == 0) {
		converge_release(c->reg->cv, c->name);
		if (s->st != DB_OK) {
			failed(c, s);
		} else if (c->version_asked) {
			/* Another version is installed: upgrade (or downgrade) it in place. */
			queued(c, plugin_store_upgrade(c->reg->db, c->name, c->version,
						       c->config ? c->config_text : NULL, upgraded,
						       c));
		} else {
			snprintf(c->msg, sizeof c->msg, "plugin %s is already installed", c->name);
			answer(c, VERB_ALREADY, c->msg, NULL);
		}
		return;
	}
	plugin_row_copy(&c->row, &rows->v[0]);
	applier_apply(c->reg->ap, c->name, &c->row, APPLY_RESTART_FAILED | APPLY_STOP_IF_NOT_READY,
		      install_applied, c);
}

static void install_record(struct call *c, const struct manifest *m);

/* From a catalog repository: in <install-dir>/<name> now, or refused with the check named. */
static void install_fetched(struct pkgfetch_result *r, void *arg)
{
	struct call *c = arg;
	json_object *body;

	if (r->rc == 0) {
		c->fetched = true;
		install_record(c, r->manifest);
		return;
	}
	snprintf(c->msg, sizeof c->msg, "%.700s (check: %s)", r->err.message, r->err.check);
	if (strcmp(r->err.check, "not-found") == 0) {
		answer(c, VERB_NOT_FOUND, c->msg, NULL);
		return;
	}
	body = json_object_new_object();
	json_object_object_add(body, "check", json_object_new_string(r->err.check));
	answer(c, VERB_PACKAGE_REFUSED, c->msg, body);
}

static void catalog_read(const struct store_status *s, json_object *out, bool found, void *arg)
{
	struct call *c = arg;

	(void)found;
	if (s->st != DB_OK) {
		failed(c, s);
	} else if (json_object_array_length(out) == 0) {
		snprintf(c->msg, sizeof c->msg, "no plugin named %s in the catalog", c->name);
		answer(c, VERB_NOT_FOUND, c->msg, NULL);
	} else {
		pkgfetch_install(c->reg->fetch, c->reg->worker, installdir_path(c->reg->dir),
				 c->reg->trust, out, c->name, c->version, install_fetched, c);
	}
}

static void install_unknown(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (s->st != DB_OK) {
		failed(c, s);
		return;
	}
	if (rows->n == 0 && c->reg->fetch != NULL) {
		queued(c, repo_store_entries(c->reg->db, c->name, catalog_read, c));
		return;
	}
	snprintf(c->msg, sizeof c->msg,
		 rows->n ? "plugin %s is already installed" : "no plugin named %s in the catalog",
		 c->name);
	answer(c, rows->n ? VERB_ALREADY : VERB_NOT_FOUND, c->msg, NULL);
}

/*
 * Checks config against the plugin's compiled configSchema (NULL: none, any
 * configuration goes). True when it may be stored; otherwise the call is
 * answered VERB_INVALID_CONFIG with every error, {"errors": [{path, keyword,
 * message}]}, and ended. The messages name schema values, never the
 * configuration's, so no secret reaches an answer or a log through them.
 */
static bool config_valid(struct call *c, const struct schema *sch, json_object *config)
{
	struct schema_errors *e;
	json_object *body;
	size_t n;

	if (sch == NULL)
		return true;
	e = schema_validate(sch, config);
	n = schema_errors_count(e);
	if (n == 0) {
		schema_errors_free(e);
		return true;
	}
	body = json_object_new_object();
	json_object_object_add(body, "errors", schema_errors_to_json(e));
	snprintf(c->msg, sizeof c->msg,
		 "the configuration does not match the configSchema of %s: %s: %s%s", c->name,
		 *schema_errors_path(e, 0) ? schema_errors_path(e, 0) : "(root)",
		 schema_errors_message(e, 0), n > 1 ? " (and more, see errors)" : "");
	schema_errors_free(e);
	answer(c, VERB_INVALID_CONFIG, c->msg, body);
	return false;
}

/* Records the install of c->name at m's version, its configuration checked first. */
static void install_record(struct call *c, const struct manifest *m)
{
	json_object *config;
	int rc;

	free(c->version);
	c->version = xstrdup(m->version);
	config = manifest_merge_config(m->default_config, c->config);
	if (!config_valid(c, m->schema, config)) {
		json_object_put(config);
		return;
	}
	c->config_text = xstrdup(json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN));
	json_object_put(config);
	converge_hold(c->reg->cv, c->name);
	rc = plugin_store_insert(c->reg->db, c->name, c->version, c->config_text, c->user, inserted,
				 c);
	if (rc < 0) {
		converge_release(c->reg->cv, c->name);
		failed(c, NULL);
	}
}

/* The plugin directory is up to date: resolve the version, then record the install. */
static void install_settled(void *arg)
{
	struct call *c = arg;
	const struct discovered *d = discovered(c->reg, c->name);

	if (d == NULL) {
		queued(c, plugin_store_get(c->reg->db, c->name, install_unknown, c));
		return;
	}
	if (c->version && strcmp(c->version, d->manifest->version) != 0) {
		snprintf(c->msg, sizeof c->msg,
			 "version %s of %s is not available (the catalog has %s)", c->version,
			 c->name, d->manifest->version);
		answer(c, VERB_NOT_FOUND, c->msg, NULL);
		return;
	}
	install_record(c, d->manifest);
}

void registry_install(struct registry *reg, const char *name, const char *version,
		      json_object *config, const char *user, verb_done_fn done, void *arg)
{
	struct call *c = call_new(reg, name, done, arg);

	c->version = version ? xstrdup(version) : NULL;
	c->version_asked = version != NULL;
	c->config = config ? json_object_get(config) : NULL;
	c->user = xstrdup(user ? user : "anonymous");
	/* A plugin copied into the directory a moment ago is found, not a 404. */
	discovery_cache_settle(reg->cache, install_settled, c);
}

/* -- enable, disable -- */

static void enabled_set(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (!take_row(c, s, rows))
		return;
	snprintf(c->msg, sizeof c->msg, "%s", c->enable ? "Plugin enabled" : "Plugin disabled");
	applier_apply(c->reg->ap, c->name, &c->row, c->enable ? APPLY_RESTART_FAILED : 0,
		      changed_applied, c);
}

void registry_set_enabled(struct registry *reg, const char *name, bool enabled, verb_done_fn done,
			  void *arg)
{
	struct call *c = call_new(reg, name, done, arg);

	c->enable = enabled;
	queued(c, plugin_store_set_enabled(reg->db, name, enabled, enabled_set, c));
}

/* -- configure -- */

static void config_stored(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (s->st != DB_OK || rows->n == 0) {
		/* Not recorded: the plugin goes back to what the database says. */
		applier_apply(c->reg->ap, c->name, &c->row, 0, NULL, NULL);
		if (s->st != DB_OK)
			failed(c, s);
		else
			not_installed(c, rows->known);
		return;
	}
	answer(c, VERB_OK, "", applied_body(c->reg, "Configuration updated", &rows->v[0]));
}

static void config_applied(const struct apply_outcome *o, void *arg)
{
	struct call *c = arg;

	if (o->code == VERB_REJECTED || o->code == VERB_UNREADABLE) {
		/* Nothing stored: the old configuration stays, here and in the plugin. */
		answer(c, o->code, o->message, NULL);
		return;
	}
	queued(c, plugin_store_set_config(c->reg->db, c->name, c->config_text, config_stored, c));
}

/*
 * config_valid against the installed version's schema: the plugin
 * directory's compiled one when it is that version, else the row's
 * configSchema compiled for this call (one that does not compile is
 * refused as unreadable). False when the call was answered.
 */
static bool config_checked(struct call *c, json_object *config)
{
	const struct discovered *d = discovered(c->reg, c->name);
	struct schema *own = NULL;
	char why[384];
	bool ok;

	if (d != NULL && c->row.version && strcmp(d->manifest->version, c->row.version) == 0)
		return config_valid(c, d->manifest->schema, config);
	if (c->row.schema == NULL)
		return config_valid(c, d ? d->manifest->schema : NULL, config);
	own = schema_compile(c->row.schema, why, sizeof why);
	if (own == NULL) {
		snprintf(c->msg, sizeof c->msg, "the configSchema of %s cannot be used: %s",
			 c->name, why);
		answer(c, VERB_UNREADABLE, c->msg, NULL);
		return false;
	}
	ok = config_valid(c, own, config);
	schema_free(own);
	return ok;
}

static void config_current(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;
	struct plugin_row next = {0};
	json_object *merged;

	if (!take_row(c, s, rows))
		return;
	/*
	 * A stored configuration that does not read back is replaced by this
	 * one: it has no secrets to keep (a mask sent back stays a mask).
	 */
	merged = secrets_unmask(c->config, c->row.config,
				c->row.schema ? c->row.schema : fallback_schema(c->reg, c->name));
	/* Checked with the secrets restored: a mask sent back is not the value. */
	if (!config_checked(c, merged)) {
		json_object_put(merged);
		return;
	}
	c->config_text = xstrdup(json_object_to_json_string_ext(merged, JSON_C_TO_STRING_PLAIN));
	/* The plugin accepts it first; only then is it recorded. */
	plugin_row_copy(&next, &c->row);
	json_object_put(next.config);
	next.config = merged;
	free(next.error);
	next.error = NULL;
	applier_apply(c->reg->ap, c->name, &next, 0, config_applied, c);
	plugin_row_clear(&next);
}

void registry_configure(struct registry *reg, const char *name, json_object *config,
			verb_done_fn done, void *arg)
{
	struct call *c = call_new(reg, name, done, arg);

	c->config = json_object_get(config);
	queued(c, plugin_store_get(reg->db, name, config_current, c));
}

/* -- uninstall -- */

static void uninstalled(const struct apply_outcome *o, void *arg)
{
	struct call *c = arg;
	json_object *out = json_object_new_object(), *p = json_object_new_object();

	(void)o;
	json_object_object_add(p, "name", json_object_new_string(c->row.name));
	json_object_object_add(p, "version",
			       c->row.version ? json_object_new_string(c->row.version) : NULL);
	json_object_object_add(out, "message",
			       json_object_new_string("Plugin uninstalled successfully"));
	json_object_object_add(out, "plugin", p);
	answer(c, VERB_OK, "", out);
}

static void deleted(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (!take_row(c, s, rows))
		return;
	log_info("registry", "%s uninstalled by %s", c->name, c->user);
	applier_apply(c->reg->ap, c->name, NULL, 0, uninstalled, c);
}

void registry_uninstall(struct registry *reg, const char *name, const char *user, bool purge,
			verb_done_fn done, void *arg)
{
	struct call *c = call_new(reg, name, done, arg);

	c->user = xstrdup(user ? user : "anonymous");
	queued(c, plugin_store_delete(reg->db, name, purge, deleted, c));
}

/* -- get, list -- */

static void got(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;
	json_object *v;

	if (s->st != DB_OK) {
		failed(c, s);
		return;
	}
	if (rows->n > 0) {
		answer(c, VERB_OK, "", view(c->reg, &rows->v[0]));
		return;
	}
	v = view_unmanaged(c->reg->sup, c->name);
	if (v != NULL) {
		answer(c, VERB_OK, "", v);
		return;
	}
	snprintf(c->msg, sizeof c->msg, "plugin %s is not installed", c->name);
	answer(c, VERB_NOT_INSTALLED, c->msg, NULL);
}

void registry_get(struct registry *reg, const char *name, verb_done_fn done, void *arg)
{
	struct call *c = call_new(reg, name, done, arg);

	queued(c, plugin_store_get(reg->db, name, got, c));
}

struct unmanaged_ctx {
	struct registry *reg;
	const struct plugin_rows *rows;
	json_object *list;
};

/* A plugin the supervisor runs that the database does not list: shown, never hidden. */
static void add_unmanaged(const struct supervisor_stats *st, void *arg)
{
	struct unmanaged_ctx *u = arg;
	json_object *v;

	if (plugin_rows_find(u->rows, st->name) != NULL)
		return;
	v = view_unmanaged(u->reg->sup, st->name);
	if (v)
		json_object_array_add(u->list, v);
}

static void listed(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;
	json_object *list, *out;
	struct unmanaged_ctx u;

	if (s->st != DB_OK) {
		failed(c, s);
		return;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < rows->n; i++)
		json_object_array_add(list, view(c->reg, &rows->v[i]));
	u = (struct unmanaged_ctx){.reg = c->reg, .rows = rows, .list = list};
	supervisor_foreach(c->reg->sup, add_unmanaged, &u);
	out = json_object_new_object();
	json_object_object_add(out, "count",
			       json_object_new_int((int)json_object_array_length(list)));
	json_object_object_add(out, "plugins", list);
	answer(c, VERB_OK, "", out);
}

void registry_list(struct registry *reg, verb_done_fn done, void *arg)
{
	struct call *c = call_new(reg, NULL, done, arg);

	queued(c, plugin_store_get(reg->db, NULL, listed, c));
}
