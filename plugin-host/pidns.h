/*
 * The host's own PID namespace (step d, after the user namespace).
 *
 * unshare(CLONE_NEWPID) moves only the children of the caller, so the host
 * forks once: the child is pid 1 of the new namespace and goes on to load
 * and serve the plugin, seeing no pid but its own; the parent, the process
 * the daemon started and reaps, stays outside as a small waiter that runs
 * no plugin code and ends the way the child ended (same exit status, same
 * signal), so the daemon's accounting is unchanged.
 */
#ifndef SS_HOST_PIDNS_H
#define SS_HOST_PIDNS_H

#include "sandbox.h"

/*
 * Called once unshare(CLONE_NEWPID) succeeded. Returns only in the child,
 * with sb->pid set to its pid inside the namespace (1); the parent never
 * returns.
 */
void pidns_fork(struct sandbox *sb);

#endif
