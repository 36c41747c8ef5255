/*
 * The registry's records and the helpers its verbs share: registry.c
 * (start-up, enable, disable, configure, uninstall, get, list), install.c
 * (install) and upgrade.c (another version of an installed plugin, and
 * rollback). Nothing outside those files includes this.
 */
#ifndef SS_REGISTRY_INT_H
#define SS_REGISTRY_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "names.h"
#include "plugin_store.h"
#include "verb.h"

struct apply_outcome;
struct discovered;
struct manifest;
struct schema;

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
	size_t keep_versions; /* versions kept on disk per plugin (--keep-versions) */
	/* Plugins with a version change in progress (upgrade.c): a second one is refused. */
	char **changing;
	size_t nchanging;
};

struct call {
	struct registry *reg;
	char name[SS_NAME_MAX + 1];
	char *version;
	bool version_asked;
	json_object *config; /* as given (install), or the new one (configure) */
	char *config_text;   /* what is stored */
	char *user;
	bool enable;
	/* <install-dir>/<name>/<version> was made by this call (a package, or a copy): gone on
	 * failure */
	bool new_files;
	bool rollback;		/* upgrade.c: a rollback (no download) */
	bool changing;		/* upgrade.c: name is in reg->changing, and held */
	struct plugin_row row;	/* the row acted on (upgrade.c: as it was before) */
	struct plugin_row next; /* upgrade.c: the row at the new version */
	char msg[768];
	/* call_answer waiting for the removal of new_files: the answer it then gives */
	enum verb_code answer_code;
	json_object *answer_body;
	verb_done_fn done;
	void *arg;
	/* call_fetch's continuations: the package's manifest (NULL: none will do, msg says why) */
	void (*then)(struct call *c, const struct manifest *m);
	void (*then_refused)(struct call *c, enum verb_code code, const char *msg,
			     json_object *body);
};

struct call *call_new(struct registry *reg, const char *name, verb_done_fn done, void *arg);
void call_free(struct call *c);
/* Completes the verb (body consumed) and ends the call; new files go when code is not OK,
 * and then only once they are gone (the answer may come later, from the worker's callback). */
void call_answer(struct call *c, enum verb_code code, const char *msg, json_object *body);
/* Completes an install that made a new plugin (201). */
void call_answer_created(struct call *c, json_object *body);
/* A statement failed (s NULL: could not be queued): the database's answer. */
void call_failed(struct call *c, const struct store_status *s);
/* rc of a plugin_store call: < 0 answers as the database being away. */
void call_queued(struct call *c, int rc);
/* Not installed: 409 when the name is known anywhere, else 404. */
void call_not_installed(struct call *c, bool known);
/* Takes the one row of rows into c->row; false after answering when there is none. */
bool call_take_row(struct call *c, const struct store_status *s, const struct plugin_rows *rows);
/*
 * Checks config against a compiled configSchema (NULL: anything goes): NULL
 * when it may be stored, else {"errors": [{path, keyword, message}]} (the
 * caller's) with c->msg naming the first. The messages name schema values,
 * never the configuration's, so no secret reaches an answer or a log.
 */
json_object *call_config_errors(struct call *c, const struct schema *sch, json_object *config);
/* call_config_errors, and false after answering VERB_INVALID_CONFIG with them. */
bool call_config_valid(struct call *c, const struct schema *sch, json_object *config);

const struct discovered *reg_discovered(struct registry *reg, const char *name);
json_object *reg_view(struct registry *reg, const struct plugin_row *row);
/* {"message": msg, "plugin": view}. */
json_object *reg_applied_body(struct registry *reg, const char *msg, const struct plugin_row *row);

/*
 * install.c: c->name at c->version (NULL: the newest compatible) from the
 * repositories into <install-dir>/<name>/<version> (pkgfetch.h); then
 * then(c, manifest) with c->version the one fetched and c->new_files set,
 * or then(c, NULL) when no entry will do (c->msg says why), or refused(c,
 * code, msg, body) when a check failed (VERB_PACKAGE_REFUSED, body
 * {"check"}: taken) or the database is away (VERB_UNAVAILABLE).
 */
void call_fetch(struct call *c, void (*then)(struct call *c, const struct manifest *m),
		void (*refused)(struct call *c, enum verb_code code, const char *msg,
				json_object *body));
/* install.c -> upgrade.c: c->row installed, c->version another version of it. */
void upgrade_begin(struct call *c);

#endif
