/*
 * The registry: the verbs of the control plane over installed plugins, and
 * start-up. Each verb runs one plugin_store statement, hands the row to the
 * applier (apply.c), and completes once the applier says how it went; the
 * convergence on changes made elsewhere is converge.c's.
 */
#define _GNU_SOURCE
#include "registry.h"
#include "registry_int.h"

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
#include "schema.h"
#include "secrets.h"
#include "supervisor.h"
#include "token.h"
#include "view.h"
#include "worker.h"
#include "xmalloc.h"

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
	/* What changed while no daemon ran (or one died before announcing it). */
	if (plugin_store_announce_sync(conn, err, errlen) < 0)
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

/*
 * A plugin's row was applied here, whoever changed it (a verb of this
 * daemon, another daemon, plain SQL): its platform events are announced
 * from the database, once across every daemon (migration 0008).
 */
static void announce(const char *name, void *arg)
{
	struct registry *reg = arg;

	plugin_store_announce(reg->db, name);
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
	reg->keep_versions = opts->keep_versions ? opts->keep_versions : 3;
	reg->dir = installdir_open(reg->worker, opts->install_dir, reg->plugin_dir, err, errlen);
	if (reg->dir == NULL)
		goto fail;
	reg->cache = discovery_cache_new(base, reg->worker, reg->plugin_dir, builtins,
					 on_plugins_changed, reg);
	reg->ap = applier_new(sup, reg->dir, reg->cache, builtins, opts->egress, opts->jobs);
	if (reg->fetch != NULL)
		applier_set_fetch(reg->ap, db, reg->fetch, reg->worker, reg->trust);
	applier_on_applied(reg->ap, announce, reg);
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

void registry_quiesce(struct registry *reg)
{
	if (reg != NULL)
		applier_close(reg->ap);
}

void registry_close(struct registry *reg)
{
	if (reg == NULL)
		return;
	/* Nothing more reaches the supervisor; what was applying is answered. */
	applier_close(reg->ap);
	/*
	 * File work queued or running ends now (applies answered, README reads
	 * answered); the worker stays for what db_free's failures submit
	 * (README lookups), cancelled by registry_free.
	 */
	worker_drain(reg->worker);
}

void registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	/* Whatever is left (README reads db_free failed) is cancelled, answered quietly. */
	applier_close(reg->ap);
	worker_free(reg->worker);
	discovery_cache_free(reg->cache);
	applier_free(reg->ap);
	converge_free(reg->cv);
	installdir_free(reg->dir);
	for (size_t i = 0; i < reg->nchanging; i++)
		free(reg->changing[i]);
	free(reg->changing);
	free(reg->plugin_dir);
	free(reg);
}

/* ---- verbs ---- */

struct call *call_new(struct registry *reg, const char *name, verb_done_fn done, void *arg)
{
	struct call *c = xcalloc(1, sizeof *c);

	c->reg = reg;
	if (name)
		snprintf(c->name, sizeof c->name, "%s", name);
	c->done = done;
	c->arg = arg;
	return c;
}

void call_free(struct call *c)
{
	free(c->version);
	json_object_put(c->config);
	free(c->config_text);
	free(c->user);
	plugin_row_clear(&c->row);
	plugin_row_clear(&c->next);
	free(c);
}

static void answer_removed(struct installdir_result *r, void *arg)
{
	struct call *c = arg;

	if (r->rc < 0)
		log_warn("registry", "%s: removing version %s: %s", c->name, c->version, r->err);
	c->new_files = false;
	call_answer(c, c->answer_code, c->msg, c->answer_body);
}

/* Completes the verb (body consumed) and ends the call. */
void call_answer(struct call *c, enum verb_code code, const char *msg, json_object *body)
{
	struct verb_result r = {.code = code, .message = msg ? msg : "", .body = body};

	/*
	 * Files made for an install or upgrade that did not happen leave nothing
	 * behind, and the refusal is answered once they are gone: a client (or a
	 * test) looking at the plugin after its 422 finds it as it was.
	 */
	if (c->new_files && code != VERB_OK) {
		if (msg == NULL || msg < c->msg || msg >= c->msg + sizeof c->msg)
			snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "");
		else if (msg != c->msg)
			memmove(c->msg, msg, strlen(msg) + 1);
		c->answer_code = code;
		c->answer_body = body;
		installdir_remove_version(c->reg->dir, c->name, c->version, answer_removed, c);
		return;
	}

	c->done(&r, c->arg);
	json_object_put(body);
	call_free(c);
}

void call_answer_created(struct call *c, json_object *body)
{
	struct verb_result r = {.code = VERB_OK, .message = "", .body = body, .created = true};

	c->done(&r, c->arg);
	json_object_put(body);
	call_free(c);
}

void call_failed(struct call *c, const struct store_status *s)
{
	if (c->new_files)
		installdir_remove_version(c->reg->dir, c->name, c->version, NULL, NULL);
	market_failure(s, c->name[0] ? c->name : "installed", c->done, c->arg);
	call_free(c);
}

/* A statement could not even be queued: the database is away. */
void call_queued(struct call *c, int rc)
{
	if (rc < 0)
		call_failed(c, NULL);
}

const struct discovered *reg_discovered(struct registry *reg, const char *name)
{
	return discovery_find(discovery_cache_list(reg->cache), name);
}

/* The schema to mask with when the row's catalog entry has none. */
static json_object *fallback_schema(struct registry *reg, const char *name)
{
	const struct discovered *d = reg_discovered(reg, name);

	return d ? d->manifest->config_schema : NULL;
}

json_object *reg_view(struct registry *reg, const struct plugin_row *row)
{
	return view_installed(row, fallback_schema(reg, row->name),
			      applier_error(reg->ap, row->name),
			      installdir_kept(reg->dir, row->name), reg->sup);
}

/* {"message": msg, "plugin": view}. */
json_object *reg_applied_body(struct registry *reg, const char *msg, const struct plugin_row *row)
{
	json_object *out = json_object_new_object();

	json_object_object_add(out, "message", json_object_new_string(msg));
	json_object_object_add(out, "plugin", reg_view(reg, row));
	return out;
}

/* Not installed: 409-like when the name is known anywhere, else unknown. */
void call_not_installed(struct call *c, bool known)
{
	snprintf(c->msg, sizeof c->msg,
		 known || reg_discovered(c->reg, c->name) ? "plugin %s is not installed"
							  : "no plugin named %s",
		 c->name);
	call_answer(c,
		    known || reg_discovered(c->reg, c->name) ? VERB_NOT_INSTALLED : VERB_NOT_FOUND,
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

	call_answer(c, VERB_OK, "",
		    reg_applied_body(c->reg, o->code == VERB_OK ? c->msg : o->message, &c->row));
}

/* Takes the one row of rows into c->row; false after answering when there is none. */
bool call_take_row(struct call *c, const struct store_status *s, const struct plugin_rows *rows)
{
	if (s->st != DB_OK) {
		call_failed(c, s);
		return false;
	}
	if (rows->n == 0) {
		call_not_installed(c, rows->known);
		return false;
	}
	plugin_row_copy(&c->row, &rows->v[0]);
	return true;
}

/* -- shared by the verbs -- */

/* See registry_int.h: the configSchema's errors of config, or NULL. */
json_object *call_config_errors(struct call *c, const struct schema *sch, json_object *config)
{
	struct schema_errors *e;
	json_object *body;
	size_t n;

	if (sch == NULL)
		return NULL;
	e = schema_validate(sch, config);
	n = schema_errors_count(e);
	if (n == 0) {
		schema_errors_free(e);
		return NULL;
	}
	body = json_object_new_object();
	json_object_object_add(body, "errors", schema_errors_to_json(e));
	snprintf(c->msg, sizeof c->msg,
		 "the configuration does not match the configSchema of %s: %s: %s%s", c->name,
		 *schema_errors_path(e, 0) ? schema_errors_path(e, 0) : "(root)",
		 schema_errors_message(e, 0), n > 1 ? " (and more, see errors)" : "");
	schema_errors_free(e);
	return body;
}

bool call_config_valid(struct call *c, const struct schema *sch, json_object *config)
{
	json_object *body = call_config_errors(c, sch, config);

	if (body == NULL)
		return true;
	call_answer(c, VERB_INVALID_CONFIG, c->msg, body);
	return false;
}

/* -- enable, disable -- */

static void enabled_set(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (!call_take_row(c, s, rows))
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
	call_queued(c, plugin_store_set_enabled(reg->db, name, enabled, enabled_set, c));
}

/* -- configure -- */

static void config_stored(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (s->st != DB_OK || rows->n == 0) {
		/* Not recorded: the plugin goes back to what the database says. */
		applier_apply(c->reg->ap, c->name, &c->row, 0, NULL, NULL);
		if (s->st != DB_OK)
			call_failed(c, s);
		else
			call_not_installed(c, rows->known);
		return;
	}
	call_answer(c, VERB_OK, "", reg_applied_body(c->reg, "Configuration updated", &rows->v[0]));
}

static void config_applied(const struct apply_outcome *o, void *arg)
{
	struct call *c = arg;

	if (o->code == VERB_REJECTED || o->code == VERB_UNREADABLE) {
		/* Nothing stored: the old configuration stays, here and in the plugin. */
		call_answer(c, o->code, o->message, NULL);
		return;
	}
	call_queued(c,
		    plugin_store_set_config(c->reg->db, c->name, c->config_text, config_stored, c));
}

/*
 * config_valid against the installed version's schema: the plugin
 * directory's compiled one when it is that version, else the row's
 * configSchema compiled for this call (one that does not compile is
 * refused as unreadable). False when the call was answered.
 */
static bool config_checked(struct call *c, json_object *config)
{
	const struct discovered *d = reg_discovered(c->reg, c->name);
	struct schema *own = NULL;
	char why[384];
	bool ok;

	if (d != NULL && c->row.version && strcmp(d->manifest->version, c->row.version) == 0)
		return call_config_valid(c, d->manifest->schema, config);
	if (c->row.schema == NULL)
		return call_config_valid(c, d ? d->manifest->schema : NULL, config);
	own = schema_compile(c->row.schema, why, sizeof why);
	if (own == NULL) {
		snprintf(c->msg, sizeof c->msg, "the configSchema of %s cannot be used: %s",
			 c->name, why);
		call_answer(c, VERB_UNREADABLE, c->msg, NULL);
		return false;
	}
	ok = call_config_valid(c, own, config);
	schema_free(own);
	return ok;
}

static void config_current(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;
	struct plugin_row next = {0};
	json_object *merged;

	if (!call_take_row(c, s, rows))
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
	call_queued(c, plugin_store_get(reg->db, name, config_current, c));
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
	call_answer(c, VERB_OK, "", out);
}

static void deleted(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (!call_take_row(c, s, rows))
		return;
	log_info("registry", "%s uninstalled by %s", c->name, c->user);
	applier_apply(c->reg->ap, c->name, NULL, 0, uninstalled, c);
}

void registry_uninstall(struct registry *reg, const char *name, const char *user, bool purge,
			verb_done_fn done, void *arg)
{
	struct call *c = call_new(reg, name, done, arg);

	c->user = xstrdup(user ? user : "anonymous");
	call_queued(c, plugin_store_delete(reg->db, name, purge, deleted, c));
}

/* -- get, list -- */

static void got(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;
	json_object *v;

	if (s->st != DB_OK) {
		call_failed(c, s);
		return;
	}
	if (rows->n > 0) {
		call_answer(c, VERB_OK, "", reg_view(c->reg, &rows->v[0]));
		return;
	}
	v = view_unmanaged(c->reg->sup, c->name);
	if (v != NULL) {
		call_answer(c, VERB_OK, "", v);
		return;
	}
	snprintf(c->msg, sizeof c->msg, "plugin %s is not installed", c->name);
	call_answer(c, VERB_NOT_INSTALLED, c->msg, NULL);
}

void registry_get(struct registry *reg, const char *name, verb_done_fn done, void *arg)
{
	struct call *c = call_new(reg, name, done, arg);

	call_queued(c, plugin_store_get(reg->db, name, got, c));
}

char *registry_version_dir(struct registry *reg, const char *name, const char *version)
{
	return installdir_version_path(reg->dir, name, version);
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
		call_failed(c, s);
		return;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < rows->n; i++)
		json_object_array_add(list, reg_view(c->reg, &rows->v[i]));
	u = (struct unmanaged_ctx){.reg = c->reg, .rows = rows, .list = list};
	supervisor_foreach(c->reg->sup, add_unmanaged, &u);
	out = json_object_new_object();
	json_object_object_add(out, "count",
			       json_object_new_int((int)json_object_array_length(list)));
	json_object_object_add(out, "plugins", list);
	call_answer(c, VERB_OK, "", out);
}

void registry_list(struct registry *reg, verb_done_fn done, void *arg)
{
	struct call *c = call_new(reg, NULL, done, arg);

	call_queued(c, plugin_store_get(reg->db, NULL, listed, c));
}
