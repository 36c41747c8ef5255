/*
 * One plugin's apply, step by step (each step's completion calls the next):
 *
 *   queued ─▶ files (worker: ensure the install copy, or remove it)
 *          ─▶ supervisor (stop, configure, or run) ─▶ finished
 *
 * A target is one plugin's state: what was applied last and the queue. It
 * lives while it has something applied, queued or an error to report.
 */
#include "apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "discovery.h"
#include "egress.h"
#include "jobs.h"
#include "installdir.h"
#include "json.h"
#include "log.h"
#include "manifest.h"
#include "names.h"
#include "pkgfetch.h"
#include "plugin_store.h"
#include "repo_store.h"
#include "secrets.h"
#include "supervisor.h"
#include "xmalloc.h"

struct op;
TAILQ_HEAD(op_list, op);

struct target {
	char *name;
	char *version; /* what runs (or was last told to run) */
	char *config;  /* its configuration, canonical JSON text */
	bool enabled;
	char *error; /* why the last apply failed, or NULL */
	bool busy;   /* the head of ops is running */
	struct op_list ops;
	LIST_ENTRY(target) entry;
};

struct op {
	struct applier *ap;
	struct target *t;
	bool present;
	struct plugin_row row;
	unsigned flags;
	apply_done_fn done;
	void *arg;
	struct manifest *m;
	bool changed;
	char *cfgtext;
	char *was_version, *was_config; /* what ran before this start (blue/green keeps it) */
	bool fetching;			/* its version is being downloaded (once per op) */
	char *missing;			/* why the files were not there, while fetching */
	TAILQ_ENTRY(op) entry;
};

struct applier {
	struct supervisor *sup;
	struct installdir *dir;
	struct discovery_cache *cache;
	const struct discovery *builtins;
	struct egress *egress; /* told each plugin's allowedHosts before it starts, or NULL */
	struct jobs *jobs;     /* told each plugin's manifest jobs before it starts, or NULL */
	/* A version neither kept nor in the plugin directory is downloaded (NULL: never). */
	struct db *db;
	struct fetch *fetch;
	struct worker *worker;
	const struct package_trust *trust;
	LIST_HEAD(, target) targets;
	bool closing;
	void (*applied)(const char *name, void *arg); /* after every apply that succeeded */
	void *applied_arg;
};

static void run_next(struct target *t);
static void drop_all(struct target *t);

struct applier *applier_new(struct supervisor *sup, struct installdir *dir,
			    struct discovery_cache *cache, const struct discovery *builtins,
			    struct egress *egress, struct jobs *jobs)
{
	struct applier *ap = xcalloc(1, sizeof *ap);

	ap->egress = egress;
	ap->jobs = jobs;
	ap->sup = sup;
	ap->dir = dir;
	ap->cache = cache;
	ap->builtins = builtins;
	LIST_INIT(&ap->targets);
	return ap;
}

static void op_free(struct op *op)
{
	plugin_row_clear(&op->row);
	manifest_free(op->m);
	free(op->cfgtext);
	free(op->was_version);
	free(op->was_config);
	free(op->missing);
	free(op);
}

static void set_error(struct target *t, const char *msg)
{
	free(t->error);
	t->error = msg ? xstrdup(msg) : NULL;
}

static void target_free(struct target *t)
{
	struct op *op;

	LIST_REMOVE(t, entry);
	while ((op = TAILQ_FIRST(&t->ops)) != NULL) {
		TAILQ_REMOVE(&t->ops, op, entry);
		op_free(op);
	}
	free(t->name);
	free(t->version);
	free(t->config);
	free(t->error);
	free(t);
}

void applier_set_fetch(struct applier *ap, struct db *db, struct fetch *f, struct worker *w,
		       const struct package_trust *trust)
{
	ap->db = db;
	ap->fetch = f;
	ap->worker = w;
	ap->trust = trust;
}

/*
 * Shutdown: an apply that cannot go on is answered (VERB_UNAVAILABLE), never
 * dropped: its caller holds a record (and maybe an HTTP request) that only
 * the answer frees.
 */
static void drop(struct op *op)
{
	struct apply_outcome o = {.code = VERB_UNAVAILABLE, .message = "the daemon is stopping"};

	TAILQ_REMOVE(&op->t->ops, op, entry);
	if (op->done)
		op->done(&o, op->arg);
	op_free(op);
}

/* Every op of t, the running one (whose step came back cancelled) first. */
static void drop_all(struct target *t)
{
	struct op *op;

	t->busy = false;
	while ((op = TAILQ_FIRST(&t->ops)) != NULL)
		drop(op);
}

void applier_close(struct applier *ap)
{
	struct target *t;

	if (ap == NULL || ap->closing)
		return;
	ap->closing = true;
	/* What waits behind a running op is answered now; the running one when its step ends. */
	LIST_FOREACH(t, &ap->targets, entry)
	{
		struct op *op;

		while ((op = TAILQ_LAST(&t->ops, op_list)) != NULL &&
		       (!t->busy || op != TAILQ_FIRST(&t->ops)))
			drop(op);
	}
}

void applier_free(struct applier *ap)
{
	struct target *t;

	if (ap == NULL)
		return;
	while ((t = LIST_FIRST(&ap->targets)) != NULL)
		target_free(t);
	free(ap);
}

static struct target *find(const struct applier *ap, const char *name)
{
	struct target *t;

	LIST_FOREACH(t, &ap->targets, entry)
	if (strcmp(t->name, name) == 0)
		return t;
	return NULL;
}

const char *applier_error(const struct applier *ap, const char *name)
{
	const struct target *t = find(ap, name);

	return t ? t->error : NULL;
}

bool applier_knows(const struct applier *ap, const char *name)
{
	return find(ap, name) != NULL;
}

void applier_foreach(const struct applier *ap, void (*fn)(const char *name, void *arg), void *arg)
{
	struct target *t, *next;

	/* fn may queue applies, never free targets (that happens when an apply finishes). */
	for (t = LIST_FIRST(&ap->targets); t != NULL; t = next) {
		next = LIST_NEXT(t, entry);
		fn(t->name, arg);
	}
}

void applier_on_applied(struct applier *ap, void (*fn)(const char *name, void *arg), void *arg)
{
	ap->applied = fn;
	ap->applied_arg = arg;
}

void applier_apply(struct applier *ap, const char *name, const struct plugin_row *row,
		   unsigned flags, apply_done_fn done, void *arg)
{
	struct target *t = find(ap, name);
	struct op *op;

	if (ap->closing) {
		/* Shutdown: nothing new starts, and the caller is answered at once. */
		struct apply_outcome o = {.code = VERB_UNAVAILABLE,
					  .message = "the daemon is stopping"};

		if (done)
			done(&o, arg);
		return;
	}
	op = xcalloc(1, sizeof *op);
	if (t == NULL) {
		t = xcalloc(1, sizeof *t);
		t->name = xstrdup(name);
		TAILQ_INIT(&t->ops);
		LIST_INSERT_HEAD(&ap->targets, t, entry);
	}
	op->ap = ap;
	op->t = t;
	op->present = row != NULL;
	if (row)
		plugin_row_copy(&op->row, row);
	op->flags = flags;
	op->done = done;
	op->arg = arg;
	TAILQ_INSERT_TAIL(&t->ops, op, entry);
	run_next(t);
}

/* Ends the running op of its target, then starts the next one. */
static void finish(struct op *op, enum verb_code code, const char *msg)
{
	struct target *t = op->t;
	struct apply_outcome o = {.code = code, .message = msg ? msg : ""};

	if (code != VERB_OK)
		log_error("registry", "%s: %s", t->name, o.message);
	TAILQ_REMOVE(&t->ops, op, entry);
	t->busy = false;
	if (code == VERB_OK && op->ap->applied != NULL)
		op->ap->applied(t->name, op->ap->applied_arg);
	if (op->done)
		op->done(&o, op->arg);
	/* Uninstalled, nothing queued, nothing to report: forget it. */
	if (!op->present && TAILQ_EMPTY(&t->ops) && t->error == NULL) {
		op_free(op);
		target_free(t);
		return;
	}
	op_free(op);
	run_next(t);
}

static bool state_is(struct supervisor *sup, const char *name, enum supervisor_state want)
{
	struct supervisor_stats st;

	return supervisor_stats(sup, name, &st) == 0 && st.state == want;
}

/* Stops name's host unless it is already on its way out. */
static void stop_host(struct applier *ap, const char *name, const char *why)
{
	if (!supervisor_has(ap->sup, name) || state_is(ap->sup, name, SUP_STOPPING))
		return;
	log_info("registry", "%s: %s: stopping", name, why);
	supervisor_stop(ap->sup, name,
			strcmp(why, "uninstalled") == 0 ? BUS_DROP_UNINSTALLED : BUS_DROP_DISABLED);
}

static void removed(struct installdir_result *r, void *arg)
{
	struct op *op = arg;

	if (op->ap->closing) {
		drop_all(op->t);
		return;
	}
	if (r->rc < 0)
		log_warn("registry", "%s: %s", op->t->name, r->err);
	set_error(op->t, NULL);
	free(op->t->version);
	op->t->version = NULL;
	free(op->t->config);
	op->t->config = NULL;
	op->t->enabled = false;
	finish(op, VERB_OK, NULL);
}

static void started(void *arg, bool ok, const char *reason)
{
	struct op *op = arg;
	struct target *t = op->t;
	char msg[768];

	if (ok) {
		t->enabled = true;
		set_error(t, NULL);
		finish(op, VERB_OK, NULL);
		return;
	}
	snprintf(msg, sizeof msg, "%s could not be started: %s", t->name,
		 reason ? reason : "unknown reason");
	if (op->was_version != NULL && state_is(op->ap->sup, t->name, SUP_RUNNING)) {
		/* A blue/green start failed: the old host serves on; a later apply tries again. */
		free(t->version);
		t->version = op->was_version;
		free(t->config);
		t->config = op->was_config;
		op->was_version = op->was_config = NULL;
	}
	if (op->flags & APPLY_STOP_IF_NOT_READY) {
		supervisor_stop(op->ap->sup, t->name, BUS_DROP_DISABLED);
		t->enabled = false;
		free(t->version);
		t->version = NULL;
		set_error(t, msg);
	}
	/*
	 * Otherwise the restart policy keeps trying and the runtime status
	 * shows it (a later host may well be ready): the reason goes to the
	 * caller and the log, not into a lasting error.
	 */
	finish(op, VERB_START_FAILED, msg);
}

/* The strings blanked out of name's log lines: those of config (and of also, when set). */
static void set_secrets(struct applier *ap, const char *name, json_object *schema,
			json_object *config, json_object *also)
{
	json_object *v = secrets_values(config, schema);

	if (also != NULL) {
		json_object *more = secrets_values(also, schema);

		for (size_t i = 0; i < json_object_array_length(more); i++)
			json_object_array_add(v,
					      json_object_get(json_object_array_get_idx(more, i)));
		json_object_put(more);
	}
	supervisor_set_secrets(ap->sup, name, v);
	json_object_put(v);
}

/* The configuration in force now (what was applied last), or NULL. */
static json_object *current_config(const struct target *t)
{
	return t->config ? json_read(t->config, strlen(t->config), JSON_MAX_DEPTH, NULL, 0) : NULL;
}

/*
 * Whether a and b are the same JSON value: objects whatever their key order,
 * numbers by value (1e2 is 100). The database hands a configuration back
 * as jsonb writes it (keys reordered, numbers normalised), so text
 * comparison would take the row of a change this daemon made itself for a
 * new one.
 */
static bool json_same(json_object *a, json_object *b)
{
	enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);

	if ((ta == json_type_int || ta == json_type_double) &&
	    (tb == json_type_int || tb == json_type_double)) {
		if (ta == json_type_int && tb == json_type_int)
			return json_object_equal(a, b);
		return json_object_get_double(a) == json_object_get_double(b);
	}
	if (ta != tb)
		return false;
	if (ta == json_type_object) {
		if (json_object_object_length(a) != json_object_object_length(b))
			return false;
		json_object_object_foreach(a, k, va)
		{
			json_object *vb;

			if (!json_object_object_get_ex(b, k, &vb) || !json_same(va, vb))
				return false;
		}
		return true;
	}
	if (ta == json_type_array) {
		size_t n = json_object_array_length(a);

		if (n != json_object_array_length(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!json_same(json_object_array_get_idx(a, i),
				       json_object_array_get_idx(b, i)))
				return false;
		return true;
	}
	return json_object_equal(a, b);
}

/* Whether config is the configuration in force now (see json_same). */
static bool config_in_force(const struct target *t, json_object *config)
{
	json_object *old = current_config(t);
	bool same = old != NULL && json_same(old, config);

	json_object_put(old);
	return same;
}

static void configured(void *arg, bool ok, const char *reason)
{
	struct op *op = arg;
	struct target *t = op->t;
	char msg[768];

	if (ok) {
		set_secrets(op->ap, t->name, op->m->config_schema, op->row.config, NULL);
		log_info("registry", "%s: configuration changed", t->name);
		free(t->config);
		t->config = op->cfgtext;
		op->cfgtext = NULL;
		set_error(t, NULL);
		finish(op, VERB_OK, NULL);
		return;
	}
	if (!state_is(op->ap->sup, t->name, SUP_RUNNING)) {
		/*
		 * Not a refusal: the host ended (stopped, crashed) before it
		 * answered. The configuration is still what is wanted; the next
		 * apply gives it to the next host (t->config stays the old one).
		 */
		finish(op, VERB_OK, NULL);
		return;
	}
	/* The plugin keeps the configuration it has; so do we (and its secrets). */
	{
		json_object *old = current_config(t);

		if (old != NULL)
			set_secrets(op->ap, t->name, op->m->config_schema, old, NULL);
		json_object_put(old);
	}
	snprintf(msg, sizeof msg, "%s refused the configuration: %s", t->name,
		 reason ? reason : "no reason given");
	finish(op, VERB_REJECTED, msg);
}

/* The files are there (or the plugin is built in): stop, reconfigure or start. */
static void have_files(struct op *op)
{
	struct applier *ap = op->ap;
	struct target *t = op->t;
	const struct plugin_row *row = &op->row;
	char err[512], *so;

	if (!row->enabled) {
		stop_host(ap, t->name, "disabled");
		t->enabled = false;
		set_error(t, NULL);
		finish(op, VERB_OK, NULL);
		return;
	}
	op->cfgtext = xstrdup(json_object_to_json_string_ext(row->config, JSON_C_TO_STRING_PLAIN));
	if (t->enabled && !op->changed && supervisor_has(ap->sup, t->name) && t->version &&
	    strcmp(t->version, row->version) == 0 &&
	    !((op->flags & APPLY_RESTART_FAILED) && state_is(ap->sup, t->name, SUP_FAILED))) {
		/*
		 * Nothing new: the NOTIFY of a change this daemon applied itself
		 * (configure, enable) reads back the row it wrote.
		 */
		if (config_in_force(t, row->config)) {
			finish(op, VERB_OK, NULL);
			return;
		}
		json_object *old = current_config(t);

		/*
		 * Before the host has the new config, so it never logs it unredacted;
		 * the old one's too, while it may still be in force.
		 */
		set_secrets(ap, t->name, op->m->config_schema, row->config, old);
		json_object_put(old);
		if (supervisor_configure(ap->sup, t->name, row->config, configured, op) == 0)
			return;
		/* Gone meanwhile: start it with the new configuration below. */
	}
	if (discovery_find(ap->builtins, t->name) != NULL)
		so = xasprintf(SS_BUILTIN_PREFIX "%s", t->name);
	else
		so = xasprintf("%s/%s/%s/%s", installdir_path(ap->dir), t->name, row->version,
			       op->m->entry_main);
	{
		struct plugin_spec spec = {
		    .name = t->name,
		    .path = so,
		    .config = row->config,
		    .permissions = op->m->permissions,
		    .mem_limit = op->m->mem_limit,
		    .event_timeout_ms = op->m->event_timeout_ms,
		    .handshake_timeout_ms = op->m->handshake_timeout_ms,
		    .secrets = secrets_values(row->config, op->m->config_schema),
		};
		int rc;

		log_info("registry", "%s: starting version %s", t->name, row->version);
		if (ap->egress != NULL)
			egress_set_hosts(ap->egress, t->name, op->m->allowed_hosts);
		if (ap->jobs != NULL)
			jobs_set_manifest(ap->jobs, t->name, op->m->jobs);
		rc = supervisor_run(ap->sup, &spec, started, op, err, sizeof err);
		json_object_put(spec.secrets);
		if (rc < 0) {
			free(so);
			set_error(t, err);
			t->enabled = false;
			finish(op, VERB_START_FAILED, err);
			return;
		}
	}
	free(so);
	/* What runs now, whatever its first host says (but see started). */
	op->was_version = t->version;
	op->was_config = t->config;
	t->version = xstrdup(row->version);
	t->config = xstrdup(op->cfgtext);
	t->enabled = true;
}

/* The files of the row's version cannot be had: whatever ran before is not what is wanted. */
static void files_failed(struct op *op, const char *why)
{
	struct target *t = op->t;

	set_error(t, why);
	stop_host(op->ap, t->name, "cannot be applied");
	t->enabled = false;
	finish(op, VERB_START_FAILED, why);
}

static void fetched(struct pkgfetch_result *r, void *arg)
{
	struct op *op = arg;
	char why[768];

	if (op->ap->closing) {
		drop_all(op->t);
		return;
	}
	if (r->rc < 0) {
		snprintf(why, sizeof why, "%.300s; from the repositories: %.300s (check: %s)",
			 op->missing, r->err.message, r->err.check);
		files_failed(op, why);
		return;
	}
	log_info("registry", "%s: version %s downloaded from the repositories", op->t->name,
		 r->version);
	op->m = r->manifest;
	r->manifest = NULL;
	op->changed = true;
	have_files(op);
}

static void entries_read(const struct store_status *s, json_object *out, bool found, void *arg)
{
	struct op *op = arg;
	struct applier *ap = op->ap;

	(void)found;
	if (ap->closing) {
		drop_all(op->t);
		return;
	}
	if (s->st != DB_OK || json_object_array_length(out) == 0) {
		files_failed(op, op->missing);
		return;
	}
	pkgfetch_install(ap->fetch, ap->worker, installdir_path(ap->dir), ap->trust, out,
			 op->t->name, op->row.version, fetched, op);
}

static void ensured(struct installdir_result *r, void *arg)
{
	struct op *op = arg;
	struct target *t = op->t;

	if (op->ap->closing) {
		drop_all(t);
		return;
	}
	if (r->rc < 0 && r->missing && op->ap->fetch != NULL && !op->fetching) {
		/*
		 * Installed from a repository on another daemon sharing the
		 * database (or this one's kept copy removed): this daemon
		 * downloads and checks the same package itself.
		 */
		op->fetching = true;
		op->missing = xstrdup(r->err);
		if (repo_store_entries(op->ap->db, t->name, entries_read, op) == 0)
			return;
	}
	if (r->rc < 0) {
		files_failed(op, r->err);
		return;
	}
	op->m = r->manifest;
	r->manifest = NULL;
	op->changed = r->changed;
	have_files(op);
}

static void run_next(struct target *t)
{
	struct op *op = TAILQ_FIRST(&t->ops);
	struct applier *ap;
	const struct discovered *b;
	char err[512];

	if (t->busy || op == NULL)
		return;
	if (op->ap->closing) {
		drop_all(t);
		return;
	}
	t->busy = true;
	ap = op->ap;
	b = discovery_find(ap->builtins, t->name);
	if (!op->present) {
		stop_host(ap, t->name, "uninstalled");
		if (b != NULL) {
			/* A built-in has no files of its own. */
			struct installdir_result r = {0};

			removed(&r, op);
		} else {
			installdir_remove(ap->dir, t->name, removed, op);
		}
		return;
	}
	if (op->row.error != NULL) {
		/*
		 * The row is there but unusable: say so, and leave what runs
		 * alone. Never an uninstall. Only "disabled" needs nothing else
		 * from it, and stopping is always safe.
		 */
		set_error(t, op->row.error);
		if (!op->row.enabled) {
			stop_host(ap, t->name, "disabled");
			t->enabled = false;
		}
		finish(op, VERB_UNREADABLE, op->row.error);
		return;
	}
	if (b != NULL) {
		/* Compiled into the host: nothing to copy, the version is the host's. */
		if (strcmp(b->manifest->version, op->row.version) != 0) {
			snprintf(err, sizeof err, "the built-in %s is version %s, not %s", t->name,
				 b->manifest->version, op->row.version);
			set_error(t, err);
			stop_host(ap, t->name, "cannot be applied");
			t->enabled = false;
			finish(op, VERB_START_FAILED, err);
			return;
		}
		op->m = manifest_from_json(b->manifest->json, err, sizeof err);
		if (op->m == NULL)
			fatal("registry: the built-in %s's manifest parsed once, not twice",
			      t->name);
		have_files(op);
		return;
	}
	installdir_ensure(ap->dir, t->name, op->row.version,
			  discovery_find(discovery_cache_list(ap->cache), t->name), ensured, op);
}
