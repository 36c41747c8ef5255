/*
 * The install verb: a plugin not installed yet, from the plugin directory
 * (or the host's built-ins) or from a catalog repository (pkgfetch.h), is
 * recorded and started, and answers once its host is ready or could not
 * start (then nothing is left: no row, no files, no host). Naming another
 * version of an installed plugin hands the call to upgrade.c.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "converge.h"
#include "discovery.h"
#include "installdir.h"
#include "log.h"
#include "manifest.h"
#include "pkgfetch.h"
#include "registry.h"
#include "registry_int.h"
#include "repo_store.h"
#include "xmalloc.h"

static void install_done(struct call *c, enum verb_code code, const char *msg, json_object *body)
{
	struct converge *cv = c->reg->cv;
	char name[SS_NAME_MAX + 1];

	snprintf(name, sizeof name, "%s", c->name);
	if (code == VERB_OK)
		call_answer_created(c, body);
	else
		call_answer(c, code, msg, body);
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
	/* The applier's uninstall removes the files (every version: there is only this one). */
	c->new_files = false;
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
	body = reg_applied_body(c->reg, "Plugin installed and activated successfully", &c->row);
	install_done(c, VERB_OK, "", body);
}

static void inserted(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (s->st != DB_OK || rows->n == 0) {
		converge_release(c->reg->cv, c->name);
		if (s->st != DB_OK) {
			call_failed(c, s);
		} else {
			/* Installed meanwhile by another call: that one decides. */
			snprintf(c->msg, sizeof c->msg, "plugin %s is already installed", c->name);
			call_answer(c, VERB_ALREADY, c->msg, NULL);
		}
		return;
	}
	plugin_row_copy(&c->row, &rows->v[0]);
	applier_apply(c->reg->ap, c->name, &c->row, APPLY_RESTART_FAILED | APPLY_STOP_IF_NOT_READY,
		      install_applied, c);
}

/* Records the install of c->name at m's version, its configuration checked first. */
static void install_record(struct call *c, const struct manifest *m)
{
	json_object *config;
	int rc;

	free(c->version);
	c->version = xstrdup(m->version);
	config = manifest_merge_config(m->default_config, c->config);
	if (!call_config_valid(c, m->schema, config)) {
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
		call_failed(c, NULL);
	}
}

/* ---- a package from the repositories ---- */

/* In <install-dir>/<name>/<version> now, or refused with the check named. */
static void fetched(struct pkgfetch_result *r, void *arg)
{
	struct call *c = arg;
	json_object *body;

	if (r->rc == 0) {
		c->new_files = true;
		free(c->version);
		c->version = xstrdup(r->version);
		c->then(c, r->manifest);
		return;
	}
	snprintf(c->msg, sizeof c->msg, "%.700s (check: %s)", r->err.message, r->err.check);
	if (strcmp(r->err.check, "not-found") == 0) {
		c->then(c, NULL);
		return;
	}
	body = json_object_new_object();
	json_object_object_add(body, "check", json_object_new_string(r->err.check));
	c->then_refused(c, VERB_PACKAGE_REFUSED, c->msg, body);
}

static void catalog_read(const struct store_status *s, json_object *out, bool found, void *arg)
{
	struct call *c = arg;

	(void)found;
	if (s->st != DB_OK) {
		c->then_refused(c, VERB_UNAVAILABLE, s->err, NULL);
	} else if (json_object_array_length(out) == 0) {
		snprintf(c->msg, sizeof c->msg, "no plugin named %s in the catalog", c->name);
		c->then(c, NULL);
	} else {
		pkgfetch_install(c->reg->fetch, c->reg->worker, installdir_path(c->reg->dir),
				 c->reg->trust, out, c->name, c->version, fetched, c);
	}
}

void call_fetch(struct call *c, void (*then)(struct call *c, const struct manifest *m),
		void (*refused)(struct call *c, enum verb_code code, const char *msg,
				json_object *body))
{
	c->then = then;
	c->then_refused = refused;
	if (repo_store_entries(c->reg->db, c->name, catalog_read, c) < 0)
		refused(c, VERB_UNAVAILABLE, "the database is away", NULL);
}

/* A package for a new install: recorded, or the answer (c->msg says why it is not there). */
static void install_package(struct call *c, const struct manifest *m)
{
	if (m == NULL) {
		call_answer(c, VERB_NOT_FOUND, c->msg, NULL);
		return;
	}
	install_record(c, m);
}

static void install_refused(struct call *c, enum verb_code code, const char *msg, json_object *body)
{
	if (code == VERB_UNAVAILABLE) {
		json_object_put(body);
		call_failed(c, NULL);
		return;
	}
	call_answer(c, code, msg, body);
}

/* ---- the verb ---- */

static void install_current(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;
	const struct discovered *d;
	const char *issue;

	if (s->st != DB_OK) {
		call_failed(c, s);
		return;
	}
	if (rows->n > 0) {
		plugin_row_copy(&c->row, &rows->v[0]);
		if (c->row.error != NULL) {
			call_answer(c, VERB_UNREADABLE, c->row.error, NULL);
		} else if (!c->version_asked || strcmp(c->version, c->row.version) == 0) {
			snprintf(c->msg, sizeof c->msg,
				 "plugin %s is already installed at version %s%s", c->name,
				 c->row.version,
				 c->version_asked ? "" : " (name a version to change to it)");
			call_answer(c, VERB_ALREADY, c->msg, NULL);
		} else {
			/* Another version of an installed plugin: blue/green (upgrade.c). */
			upgrade_begin(c);
		}
		return;
	}
	d = reg_discovered(c->reg, c->name);
	if (d == NULL && (issue = discovery_issue(discovery_cache_list(c->reg->cache), c->name))) {
		/* The directory has it, but not as a plugin: say why (its manifest's error). */
		json_object *body = json_object_new_object();

		json_object_object_add(body, "check", json_object_new_string("manifest"));
		snprintf(c->msg, sizeof c->msg, "plugin %s in the plugin directory: %.600s",
			 c->name, issue);
		call_answer(c, VERB_PACKAGE_REFUSED, c->msg, body);
		return;
	}
	if (d != NULL && (c->version == NULL || strcmp(c->version, d->manifest->version) == 0)) {
		install_record(c, d->manifest);
	} else if (c->reg->fetch != NULL) {
		call_fetch(c, install_package, install_refused);
	} else {
		if (d != NULL)
			snprintf(c->msg, sizeof c->msg,
				 "version %s of %s is not available (the catalog has %s)",
				 c->version, c->name, d->manifest->version);
		else
			snprintf(c->msg, sizeof c->msg, "no plugin named %s in the catalog",
				 c->name);
		call_answer(c, VERB_NOT_FOUND, c->msg, NULL);
	}
}

/* The plugin directory is up to date: is name installed already? */
static void install_settled(void *arg)
{
	struct call *c = arg;

	call_queued(c, plugin_store_get(c->reg->db, c->name, install_current, c));
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
