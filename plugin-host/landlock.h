/*
 * Landlock: the filesystem the plugin may see. Read-only access to its own
 * directory and the system library directories, nothing writable anywhere;
 * on kernels that have them, no TCP bind/connect, no abstract UNIX sockets
 * and no signals to processes outside the sandbox either.
 */
#ifndef SS_HOST_LANDLOCK_H
#define SS_HOST_LANDLOCK_H

#include "sandbox.h"

/* Applies the ruleset for a plugin at plugin_path (absolute). */
void landlock_apply(struct sandbox *sb, const char *plugin_path);

#endif
