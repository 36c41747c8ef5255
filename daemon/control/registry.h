/*
 * The plugin registry: installed_plugins in PostgreSQL is the desired state,
 * and the registry makes the supervisor's running hosts match it. It
 * applies the schema migrations at start-up, keeps the local catalog equal
 * to the plugin directory, starts every enabled plugin, and converges on
 * every change announced with NOTIFY (by this daemon, another daemon sharing
 * the database, or plain SQL).
 *
 * It knows nothing of HTTP. Its verbs take a completion (verb.h) and say
 * what happened; the front end validates input, calls a verb and answers.
 */
#ifndef SS_REGISTRY_H
#define SS_REGISTRY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "verb.h"

struct egress;
struct jobs;

struct event_base;
struct supervisor;
struct db;
struct token_cache;
struct market;
struct discovery;
struct registry;
struct worker;
struct fetch;
struct package_trust;

struct registry_options {
	const char *conninfo;	/* libpq URI or key=value string ("" uses PG* variables) */
	const char *plugin_dir; /* <dir>/<name>/manifest.json + .so; may be NULL */
	/* Where installed plugins' files are copied: see installdir_open. */
	const char *install_dir;
	/* Installs from catalog repositories download with fetch (NULL: none) under trust. */
	struct fetch *fetch;
	const struct package_trust *trust;
	/* Told each started plugin's allowedHosts (NULL: no egress service). */
	struct egress *egress;
	/* Told each started plugin's manifest jobs (NULL: no jobs service). */
	struct jobs *jobs;
	/* Versions of a plugin kept in the install directory, the running one included (0: 3). */
	size_t keep_versions;
};

/*
 * Applies the migrations, loads the token cache, updates the local catalog,
 * scans the plugin directory and starts every enabled plugin; the file work
 * of start-up is finished before it returns (the loop does not serve yet).
 * db, tokens, cat and builtins are borrowed; db must be freed before the
 * registry (its pending queries complete into it). NULL with a message.
 */
struct registry *registry_new(struct event_base *base, struct supervisor *sup, struct db *db,
			      struct token_cache *tokens, struct market *cat,
			      const struct discovery *builtins, const struct registry_options *opts,
			      char *err, size_t errlen);
/*
 * Shutdown, before the database goes: every verb still in flight on the
 * applier is answered (the daemon is stopping) and the worker's file work
 * is run to its end (worker_drain); what they queue meanwhile is failed by
 * db_free into records that still exist, and the README lookups that fail
 * then are cancelled by registry_free's worker_free.
 */
void registry_close(struct registry *reg);
/*
 * Stopping (SIGTERM): nothing is applied any more (no host is started while
 * the supervisor stops them all): a verb that reaches the applier from now on
 * is answered "the daemon is stopping" (503). NULL is fine.
 */
void registry_quiesce(struct registry *reg);
void registry_free(struct registry *reg);
/* The one worker thread (base/worker.h) the registry owns, for other control modules' jobs. */
struct worker *registry_worker(struct registry *reg);

/*
 * Installs name (version NULL: the one the plugin directory has, else the
 * newest compatible one of the repositories) with config (an object over
 * the manifest's defaults, or NULL), recorded as user's doing. Completes
 * once the host is ready (body {"plugin": view}, created) or could not
 * start: then VERB_START_FAILED, and no row and no files are left behind.
 *
 * Another version of an installed plugin is an upgrade (or downgrade) in
 * place, blue/green: its files (kept, from the plugin directory, or
 * downloaded), the configuration carried over (or config over the new
 * defaults) checked against the new configSchema (VERB_INVALID_CONFIG),
 * the row moved (previous_version the old one), the new host started
 * beside the old one and switched to once ready. A new version that does
 * not become ready: VERB_START_FAILED, the row back at the old version,
 * the old host serving on, the new version's files gone. Versions beyond
 * keep_versions are pruned after a change. VERB_BUSY while another version
 * change of name is in progress.
 */
void registry_install(struct registry *reg, const char *name, const char *version,
		      json_object *config, const char *user, verb_done_fn done, void *arg);
/* body {"plugin": view}; completes once the change has been applied. */
void registry_set_enabled(struct registry *reg, const char *name, bool enabled, verb_done_fn done,
			  void *arg);
/*
 * Gives name a new configuration (masked secrets sent back keep their stored
 * value). A running plugin must accept it first: VERB_REJECTED leaves the old
 * one in the database and in the plugin. body {"plugin": view}.
 */
void registry_configure(struct registry *reg, const char *name, json_object *config,
			verb_done_fn done, void *arg);
/*
 * Deletes the row (and, with purge, the plugin's storage, else kept for a
 * later install), stops the host, removes the files. body {"plugin": {name,
 * version}}.
 */
void registry_uninstall(struct registry *reg, const char *name, const char *user, bool purge,
			verb_done_fn done, void *arg);
/*
 * Switches name to version (NULL: its previous_version) the way an upgrade
 * does, from the files kept on disk only (never a download). VERB_NOT_FOUND
 * when that version is not kept, VERB_NO_PREVIOUS when there is none to go
 * back to, VERB_ALREADY when it runs that version.
 */
void registry_rollback(struct registry *reg, const char *name, const char *version,
		       const char *user, verb_done_fn done, void *arg);
/* body: the view of name (a plugin run with --plugin has an unmanaged view). */
void registry_get(struct registry *reg, const char *name, verb_done_fn done, void *arg);
/* Where version of name is kept on disk when installed, <install-dir>/<name>/<version> (new). */
char *registry_version_dir(struct registry *reg, const char *name, const char *version);
/* body {"count", "plugins": [views]}. */
void registry_list(struct registry *reg, verb_done_fn done, void *arg);

#endif
