/*
 * Starting a plugin host: fork+exec with a fixed fd layout (protocol socket
 * on 3, /dev/null on 0, the log pipe on 1 and 2) and nothing else open.
 */
#ifndef SS_SPAWN_H
#define SS_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct spawn_child {
	pid_t pid;
	int sock;  /* the daemon's end of the protocol socketpair (non-blocking, cloexec) */
	int logfd; /* read end of the child's stdout/stderr pipe (non-blocking, cloexec) */
};

/*
 * Starts path with argv (argv[0] included, NULL-terminated). Errors before
 * exec (including exec itself) come back on a close-on-exec pipe, so a
 * missing or unexecutable host is reported here and not as a crash.
 * Returns 0, or -1 with a message in err.
 */
int spawn_host(const char *path, char *const argv[], struct spawn_child *out, char *err,
	       size_t errlen);

/*
 * The same, with the child first writing "0" into cgroup_procs (an open
 * cgroup.procs, see cgroup.h) so that it is inside its cgroup before it
 * runs anything else; -1 for none.
 */
int spawn_host_in(const char *path, char *const argv[], int cgroup_procs, struct spawn_child *out,
		  char *err, size_t errlen);

#endif
