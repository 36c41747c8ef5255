/*
 * Another version of an installed plugin: upgrade, downgrade (install with
 * a version) and rollback (a kept version, never a download). One path for
 * all three, step by step, each step's completion calling the next:
 *
 *   files     the version's directory: kept, copied from the plugin
 *             directory, or (not a rollback) downloaded and checked
 *   config    the configuration carried over (or the one given, over the
 *             new defaults) checked against the NEW configSchema
 *   row       installed_plugins moved from the old version (only if still
 *             there), previous_version the old one
 *   apply     the applier starts the new host beside the old one
 *             (blue/green, supervisor.c) and answers once it is ready
 *   prune     versions beyond --keep-versions removed
 *
 * A new version that does not become ready: the row goes back (version,
 * previous_version and configuration as they were), the old host serves on
 * (the supervisor discarded the new one), the files this call made go, and
 * the answer is VERB_START_FAILED with the reason.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "converge.h"
#include "db.h"
#include "discovery.h"
#include "installdir.h"
#include "log.h"
#include "manifest.h"
#include "registry.h"
#include "registry_int.h"
#include "xmalloc.h"

static bool changing_has(const struct registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->nchanging; i++)
		if (strcmp(reg->changing[i], name) == 0)
			return true;
	return false;
}

/* Ends a version change (the hold and the mark released), then answers. */
static void change_end(struct call *c, enum verb_code code, const char *msg, json_object *body)
{
	struct registry *reg = c->reg;
	char name[SS_NAME_MAX + 1];

	snprintf(name, sizeof name, "%s", c->name);
	if (c->changing) {
		for (size_t i = 0; i < reg->nchanging; i++)
			if (strcmp(reg->changing[i], name) == 0) {
				free(reg->changing[i]);
				reg->changing[i] = reg->changing[--reg->nchanging];
				break;
			}
	}
	bool held = c->changing;

	call_answer(c, code, msg, body);
	/* Fetched once more: what happened meanwhile (another daemon, plain SQL) is applied. */
	if (held)
		converge_release(reg->cv, name);
}

static void change_refused(struct call *c, enum verb_code code, const char *msg, json_object *body)
{
	if (code == VERB_UNAVAILABLE) {
		json_object_put(body);
		snprintf(c->msg, sizeof c->msg, "the database is away: try again shortly");
		msg = c->msg;
	}
	change_end(c, code, msg, body);
}

static void pruned(struct installdir_result *r, void *arg)
{
	struct call *c = arg;

	if (r->rc < 0)
		log_warn("registry", "%s: pruning kept versions: %s", c->name, r->err);
	change_end(c, VERB_OK, "", reg_applied_body(c->reg, c->msg, &c->next));
}

static void reverted_applied(const struct apply_outcome *o, void *arg)
{
	struct call *c = arg;

	(void)o;
	change_end(c, VERB_START_FAILED, c->msg, NULL);
}

static void reverted(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (s->st != DB_OK || rows == NULL || rows->n == 0) {
		const char *why = s->st != DB_OK ? s->err : "the row changed meanwhile";

		log_error("registry", "%s: taking back version %s: %s", c->name, c->version, why);
		snprintf(c->msg + strlen(c->msg), sizeof c->msg - strlen(c->msg),
			 " (and the row could not be set back to %s: %s)", c->row.version, why);
	}
	/* The old row again: nothing to do when the old host serves on, a start otherwise. */
	applier_apply(c->reg->ap, c->name, &c->row, 0, reverted_applied, c);
}

static void version_applied(const struct apply_outcome *o, void *arg)
{
	struct call *c = arg;
	char *old_config;
	int rc;

	if (o->code == VERB_OK) {
		log_info("registry", "%s: %s %s -> %s by %s", c->name,
			 c->rollback ? "rolled back" : "version changed", c->row.version,
			 c->version, c->user);
		snprintf(c->msg, sizeof c->msg, "Plugin %s from version %s to %s",
			 c->rollback ? "rolled back" : "changed", c->row.version, c->version);
		installdir_prune(c->reg->dir, c->name, c->reg->keep_versions, c->version,
				 c->row.version, pruned, c);
		return;
	}
	snprintf(c->msg, sizeof c->msg, "%.600s; version %s stays", o->message, c->row.version);
	old_config = xstrdup(json_object_to_json_string_ext(c->row.config, JSON_C_TO_STRING_PLAIN));
	rc = plugin_store_set_version(c->reg->db, c->name, c->version, c->row.version,
				      c->row.previous_version, old_config, reverted, c);
	free(old_config);
	if (rc < 0) {
		struct store_status down = {.st = DB_DOWN, .err = "the database is away"};

		reverted(&down, NULL, c);
	}
}

static void version_set(const struct store_status *s, const struct plugin_rows *rows, void *arg)
{
	struct call *c = arg;

	if (s->st != DB_OK) {
		change_refused(c, VERB_UNAVAILABLE, NULL, NULL);
		return;
	}
	if (rows->n == 0) {
		snprintf(c->msg, sizeof c->msg,
			 "plugin %s is no longer at version %s (changed meanwhile): nothing done",
			 c->name, c->row.version);
		change_end(c, VERB_BUSY, c->msg, NULL);
		return;
	}
	plugin_row_copy(&c->next, &rows->v[0]);
	applier_apply(c->reg->ap, c->name, &c->next, APPLY_RESTART_FAILED, version_applied, c);
}

/* The new version's files are there: its schema judges the configuration first. */
static void have_version(struct call *c, const struct manifest *m)
{
	json_object *config, *errors;

	if (m == NULL) {
		change_end(c, VERB_NOT_FOUND, c->msg, NULL);
		return;
	}
	/* Carried over (new keys get the new defaults), or the one given over the defaults. */
	config = manifest_merge_config(m->default_config, c->config ? c->config : c->row.config);
	errors = call_config_errors(c, m->schema, config);
	if (errors != NULL) {
		/* The old version keeps running with the configuration it has. */
		json_object_put(config);
		change_end(c, VERB_INVALID_CONFIG, c->msg, errors);
		return;
	}
	c->config_text = xstrdup(json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN));
	json_object_put(config);
	if (plugin_store_set_version(c->reg->db, c->name, c->row.version, c->version,
				     c->row.version, c->config_text, version_set, c) < 0)
		change_refused(c, VERB_UNAVAILABLE, NULL, NULL);
}

static void files_ready(struct installdir_result *r, void *arg)
{
	struct call *c = arg;
	json_object *kept;
	char list[256] = "";

	if (r->rc == 0) {
		c->new_files = r->changed;
		have_version(c, r->manifest);
		return;
	}
	if (r->missing && !c->rollback && c->reg->fetch != NULL) {
		call_fetch(c, have_version, change_refused);
		return;
	}
	if (!r->missing) {
		snprintf(c->msg, sizeof c->msg, "%s", r->err);
		change_end(c, VERB_INTERNAL, c->msg, NULL);
		return;
	}
	kept = installdir_kept(c->reg->dir, c->name);
	for (size_t i = 0; i < json_object_array_length(kept) && strlen(list) < 200; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
			 json_object_get_string(json_object_array_get_idx(kept, i)));
	json_object_put(kept);
	snprintf(c->msg, sizeof c->msg, "version %s of %s is not kept on this daemon (kept: %s)%s",
		 c->version, c->name, list[0] ? list : "none",
		 c->rollback ? "; a rollback never downloads: install that version instead" : "");
	change_end(c, VERB_NOT_FOUND, c->msg, NULL);
}

void upgrade_begin(struct call *c)
{
	struct registry *reg = c->reg;

	if (changing_has(reg, c->name)) {
		snprintf(c->msg, sizeof c->msg,
			 "a version change of %s is in progress: try again when it has ended",
			 c->name);
		call_answer(c, VERB_BUSY, c->msg, NULL);
		return;
	}
	reg->changing = xrealloc(reg->changing, (reg->nchanging + 1) * sizeof *reg->changing);
	reg->changing[reg->nchanging++] = xstrdup(c->name);
	c->changing = true;
	/* NOTIFYs about name wait: a change seen half-way must not be applied twice. */
	converge_hold(reg->cv, c->name);
	installdir_ensure(reg->dir, c->name, c->version, reg_discovered(reg, c->name), files_ready,
			  c);
}

/* -- rollback -- */

static void rollback_current(const struct store_status *s, const struct plugin_rows *rows,
			     void *arg)
{
	struct call *c = arg;

	if (!call_take_row(c, s, rows))
		return;
	if (c->row.error != NULL) {
		call_answer(c, VERB_UNREADABLE, c->row.error, NULL);
		return;
	}
	if (c->version == NULL) {
		if (c->row.previous_version == NULL) {
			snprintf(c->msg, sizeof c->msg,
				 "plugin %s has no previous version to roll back to (only %s has "
				 "run since it was installed)",
				 c->name, c->row.version);
			call_answer(c, VERB_NO_PREVIOUS, c->msg, NULL);
			return;
		}
		c->version = xstrdup(c->row.previous_version);
	}
	if (strcmp(c->version, c->row.version) == 0) {
		snprintf(c->msg, sizeof c->msg, "plugin %s already runs version %s", c->name,
			 c->version);
		call_answer(c, VERB_ALREADY, c->msg, NULL);
		return;
	}
	upgrade_begin(c);
}

void registry_rollback(struct registry *reg, const char *name, const char *version,
		       const char *user, verb_done_fn done, void *arg)
{
	struct call *c = call_new(reg, name, done, arg);

	c->rollback = true;
	c->version = version ? xstrdup(version) : NULL;
	c->user = xstrdup(user ? user : "anonymous");
	call_queued(c, plugin_store_get(reg->db, name, rollback_current, c));
}
