/*
 * Convergence: keeps the applier fed with the desired state as it changes.
 * NOTIFY on installed_plugins fetches the one plugin named (fetches of one
 * plugin serialised); an unnamed notification, and the listener coming back,
 * re-read everything; plugins the database no longer lists are uninstalled
 * and stale copies in the install directory swept.
 *
 * A name held by an install in progress is left alone until released.
 */
#ifndef SS_CONVERGE_H
#define SS_CONVERGE_H

struct db;
struct applier;
struct installdir;
struct token_cache;
struct market;
struct discovery_cache;
struct plugin_rows;
struct converge;

/* All borrowed. */
struct converge *converge_new(struct db *db, struct applier *ap, struct installdir *dir,
			      struct token_cache *tokens, struct market *cat,
			      struct discovery_cache *cache);
void converge_free(struct converge *c);
/* LISTENs on the channels and follows the database's state (after start-up). */
void converge_listen(struct converge *c);
/* Applies every row and uninstalls the rest (start-up's rows, or a resync's). */
void converge_rows(struct converge *c, const struct plugin_rows *rows);
/* An install of name begins: notifications about it wait. */
void converge_hold(struct converge *c, const char *name);
/* It ended: name is fetched once more, to converge on what happened meanwhile. */
void converge_release(struct converge *c, const char *name);
/*
 * Applies every row again (the plugin directory changed: a plugin whose
 * files changed is copied and upgraded blue/green, the others stay).
 */
void converge_resync(struct converge *c);

#endif
