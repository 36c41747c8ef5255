/*
 * Starting a child program the straight-line way (STYLE.md 8): block
 * signals, fork, reset signals in the child, put fixed fds in place, mark
 * every other fd close-on-exec, exec; anything that fails before exec comes
 * back on a close-on-exec pipe, so a missing or unexecutable binary is an
 * error here and not a mysterious exit later. Plugin hosts and the host's
 * --list-builtins run both start this way.
 */
#ifndef SS_SPAWN_H
#define SS_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Starts path with argv (argv[0] included, NULL-terminated) and a scrubbed
 * environment. fds[i] (i = 0..3) becomes the child's fd i: -1 is /dev/null
 * for 0..2 and nothing for 3. cgroup_procs, when >= 0, is an open
 * cgroup.procs the child writes "0" into before anything else (see
 * cgroup.h). Returns the child's pid (the caller reaps it), or -1 with a
 * message in err. The caller's fds stay open.
 */
pid_t spawn_exec(const char *path, char *const argv[], const int fds[4], int cgroup_procs,
		 char *err, size_t errlen);

struct spawn_child {
	pid_t pid;
	int sock;  /* the daemon's end of the protocol socketpair (non-blocking, cloexec) */
	int logfd; /* read end of the child's stdout/stderr pipe (non-blocking, cloexec) */
};

/*
 * Starts a plugin host: the protocol socket on its fd 3, /dev/null on 0 and
 * one log pipe on 1 and 2. cgroup_procs as for spawn_exec (-1 for none).
 * Returns 0, or -1 with a message in err.
 */
int spawn_host_in(const char *path, char *const argv[], int cgroup_procs, struct spawn_child *out,
		  char *err, size_t errlen);
/* How a plugin host is told what to run (its command line, plugin-host/README.md). */
struct host_args {
	const char *name;   /* --name */
	const char *plugin; /* --plugin: the .so, or builtin:<name> */
	uint64_t mem_limit; /* --mem-limit, bytes */
	bool strict;	    /* --strict */
	bool sandbox_debug; /* --sandbox-debug */
};
/* spawn_host_in of host_path with the command line for a. */
int spawn_plugin_host(const char *host_path, const struct host_args *a, int cgroup_procs,
		      struct spawn_child *out, char *err, size_t errlen);

/* spawn_host_in without a cgroup. */
int spawn_host(const char *path, char *const argv[], struct spawn_child *out, char *err,
	       size_t errlen);

#endif
