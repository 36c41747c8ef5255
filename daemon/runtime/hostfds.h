/*
 * The open-file limit as a bound on plugin hosts: the descriptors the
 * daemon holds per host, so that the number of hosts is bounded by the
 * limit and a start past it fails with that reason rather than an EMFILE
 * somewhere else (an HTTP accept, the database). A host's socket and log
 * pipe for its life, its exec result pipe while it starts (at most
 * --max-starting at once), the spawn's own for the call (the child's ends
 * of both, the error pipe's two, the cgroup's), and HOSTFDS_RESERVED for
 * everything else (HTTP clients, the database, libevent, the worker, logs).
 * --plugin is held to the same bound at start-up (config.c).
 */
#ifndef SS_HOSTFDS_H
#define SS_HOSTFDS_H

#include <stddef.h>

#define HOSTFDS_PER_HOST 2
#define HOSTFDS_STARTING 1
#define HOSTFDS_SPAWN 5
#define HOSTFDS_RESERVED 256

/* How many hosts at once an open-file limit of nofile leaves room for (0: none). */
size_t hostfds_max(unsigned long long nofile, int max_starting);

/*
 * Whether one more host fits beside running ones under the daemon's
 * open-file limit now: 0, or -1 with the reason in err (the bound, the
 * limit and how to raise it).
 */
int hostfds_check(size_t running, int max_starting, char *err, size_t errlen);

#endif
