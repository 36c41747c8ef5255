/*
 * The host's confinement, applied in a fixed order before the plugin is
 * loaded (see README.md for each layer and why it comes where it does).
 * Every step either puts its layer in force and names it in the layer list,
 * or, when the kernel does not offer it, records it as missing (or, with
 * --strict, ends the host with status 71). Any other failure is fatal (71).
 */
#ifndef SS_HOST_SANDBOX_H
#define SS_HOST_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "layers.h"

/* The protocol socket: the daemon passes it as fd 3. */
#define HOST_FD 3

/* The uid and gid a host started as root drops to (nobody / nogroup). */
#define HOST_NOBODY 65534

struct sandbox {
	struct layers layers;
	bool strict;
	pid_t parent;	/* getppid() at start: the daemon */
	pid_t pid;	/* our pid (1 in our PID namespace), for the filters' pid rules */
	bool can_admin; /* we hold CAP_SYS_ADMIN in our (new) user namespace */
	bool pidns;	/* we are pid 1 of a PID namespace of our own (pidns.c) */
};

void sandbox_init(struct sandbox *sb, bool strict);

/*
 * A layer the kernel does not offer: recorded as missing, or fatal (71) in
 * strict mode.
 */
void sandbox_unavailable(struct sandbox *sb, const char *layer, const char *reason);

/* Whether errno from a setup call means "this kernel (or its policy) lacks the feature". */
bool sandbox_errno_unavailable(int err);

/* a. fd 3 is an AF_UNIX stream socket; 0-2 open; every other fd closed; signals reset; setsid. */
void sandbox_fds(struct sandbox *sb);
/* b. Never root: a host started as root becomes nobody; capabilities dropped. */
void sandbox_nonroot(struct sandbox *sb);
/* c. Die with the parent; not dumpable or ptrace-able; scrubbed environment. */
void sandbox_process(struct sandbox *sb);
/* d. Own user, network, mount, IPC, UTS and PID namespaces (the last one forks, pidns.h). */
void sandbox_namespaces(struct sandbox *sb);
/* e. Resource limits: address space, open files, processes, file size, core, CPU. */
void sandbox_rlimits(struct sandbox *sb, uint64_t mem_limit, uint64_t cpu_limit);
/* g (first half). PR_SET_NO_NEW_PRIVS, then every capability (held in our user namespace) dropped.
 */
void sandbox_no_new_privs(struct sandbox *sb);

/* Clears the ambient capabilities and empties every capability set (fatal on failure). */
void sandbox_caps_clear(void);

#endif
