/*
 * The applier: makes what runs match a desired-state row, one plugin at a
 * time. For each plugin it keeps what it last applied and a queue of rows
 * to apply; one apply runs at a time per plugin (files on the worker thread,
 * then the supervisor), so an older row never overtakes a newer one, and
 * each apply says how it ended once the host is ready, refused its
 * configuration, or failed to start.
 */
#ifndef SS_APPLY_H
#define SS_APPLY_H

#include <stdbool.h>

#include "verb.h"

struct event_base;
struct supervisor;
struct installdir;
struct discovery;
struct discovery_cache;
struct plugin_row;
struct applier;
struct egress;
struct db;
struct fetch;
struct worker;
struct package_trust;
struct jobs;

/* code VERB_OK, or VERB_START_FAILED, VERB_REJECTED, VERB_UNREADABLE, VERB_INTERNAL. */
struct apply_outcome {
	enum verb_code code;
	const char *message;
};
typedef void (*apply_done_fn)(const struct apply_outcome *o, void *arg);

enum {
	/* A plugin the supervisor gave up on ("failed") is started afresh. */
	APPLY_RESTART_FAILED = 1 << 0,
	/* A host that does not become ready is stopped, not left to the restart policy. */
	APPLY_STOP_IF_NOT_READY = 1 << 1,
};

/* All borrowed; they outlive the applier. builtins: the host's built-in plugins. */
struct applier *applier_new(struct supervisor *sup, struct installdir *dir,
			    struct discovery_cache *cache, const struct discovery *builtins,
			    struct egress *egress, struct jobs *jobs);
/*
 * From now on a row whose version is neither kept in the install directory
 * nor in the plugin directory is downloaded from the repositories the
 * database lists (pkgfetch.h, under trust) before it is started: another
 * daemon sharing the database installed or upgraded it. All borrowed.
 */
void applier_set_fetch(struct applier *ap, struct db *db, struct fetch *f, struct worker *w,
		       const struct package_trust *trust);
/*
 * Ends without calling any done again (shutdown: the loop no longer runs);
 * after applier_close and the worker's drain only an op waiting on the
 * supervisor can be left.
 */
void applier_free(struct applier *ap);
/*
 * Shutdown: every apply queued behind a running one, every new one, and each
 * running one when its step comes back (file work cancelled) is answered
 * VERB_UNAVAILABLE ("the daemon is stopping"): its caller frees its record.
 */
void applier_close(struct applier *ap);

/*
 * Queues making name match row: row NULL means "not installed" (host
 * stopped, files removed). A row with error set changes nothing that runs
 * and is reported. row is copied. done may be NULL.
 */
void applier_apply(struct applier *ap, const char *name, const struct plugin_row *row,
		   unsigned flags, apply_done_fn done, void *arg);
/*
 * fn(name) after every apply that succeeded (the host ready, stopped, or
 * nothing to do), whichever caller asked for it: the registry announces
 * the change there (plugin_store_announce). One hook; NULL removes it.
 */
void applier_on_applied(struct applier *ap, void (*fn)(const char *name, void *arg), void *arg);
/* Why the last apply of name failed, or NULL. */
const char *applier_error(const struct applier *ap, const char *name);
/* Whether the applier holds state for name (applied, or applies queued). */
bool applier_knows(const struct applier *ap, const char *name);
/* Calls fn for every name the applier holds state for. */
void applier_foreach(const struct applier *ap, void (*fn)(const char *name, void *arg), void *arg);

#endif
