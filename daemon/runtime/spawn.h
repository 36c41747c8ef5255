/*
 * Starting a child program the straight-line way (STYLE.md 8): block
 * signals, fork, reset signals in the child, put fixed fds in place, mark
 * every other fd close-on-exec, exec; anything that fails before exec comes
 * back on a close-on-exec pipe, so a missing or unexecutable binary is an
 * error and not a mysterious exit later. Plugin hosts and the host's
 * --list-builtins run both start this way. A plugin host's exec result is
 * read from the loop (spawn_host_in, spawn_result): the daemon never waits
 * for a child to exec.
 */
#ifndef SS_SPAWN_H
#define SS_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct spawn_child {
	pid_t pid;
	int sock;  /* the daemon's end of the protocol socketpair (non-blocking, cloexec) */
	int logfd; /* read end of the child's stdout/stderr pipe (non-blocking, cloexec) */
	int errfd; /* how its exec went, for spawn_result (non-blocking, cloexec); -1: known */
};

/*
 * Starts path with argv (argv[0] included, NULL-terminated) and a scrubbed
 * environment as a plugin host: the protocol socket on its fd 3, /dev/null
 * on 0 and one log pipe on 1 and 2. cgroup_procs, when >= 0, is an open
 * cgroup.procs the child writes "0" into before anything else (see
 * cgroup.h). The caller reaps the child.
 * Returns 0 as soon as the child is forked, without waiting for its exec:
 * the caller watches out->errfd and reads it with spawn_result, then closes
 * it. -1 with a message in err when nothing could be forked.
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

/*
 * How the child's exec went, from its errfd: 1 it ran path (end of file), 0
 * not known yet (errfd would block), -1 it failed, with the sentence the
 * operator sees in err ("execve <path>: No such file or directory"); the
 * child then exits 127 on its own and is the caller's to reap.
 */
int spawn_result(int errfd, const char *path, char *err, size_t errlen);

/*
 * spawn_host_in without a cgroup that waits for the exec (start-up and
 * benches only): 0, or -1 with err when it failed (the child reaped, no fd
 * left open). out->errfd is -1.
 */
int spawn_host(const char *path, char *const argv[], struct spawn_child *out, char *err,
	       size_t errlen);

#endif
