/*
 * What a plugin's permissions (the manifest's "permissions", granted at
 * install) allow it to ask of the daemon. One place for every check, so a
 * request type that needs a permission adds a rule here, not a string
 * comparison in its handler.
 */
#ifndef SS_GRANTS_H
#define SS_GRANTS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether perms (an array of strings) holds perm, or "admin". */
bool grants_has(json_object *perms, const char *perm);

/*
 * 0 when a plugin holding perms may subscribe to pattern (a valid pattern;
 * session.* needs read:sessions, user.* read:users, "*" both; a platform
 * event's name and system.* need admin), else -1 with why in a sentence.
 */
int grants_subscribe(json_object *perms, const char *pattern, char *why, size_t len);

/*
 * 0 when a plugin named plugin holding perms may emit event (a full name):
 * its own plugin.<plugin>.* always, session.* with write:sessions, user.*
 * with write:users, nothing else. Else -1 with why in a sentence.
 */
int grants_emit(json_object *perms, const char *plugin, const char *event, char *why, size_t len);

#endif
