/*
 * The user plugin hosts run as, and whether it can read a plugin's files.
 *
 * A host started by a root daemon drops to nobody (uid and gid 65534, no
 * supplementary groups) before it opens anything (plugin-host/README.md,
 * step b); a host started by any other user stays that user. A plugin
 * directory that user cannot read would fail every start of every plugin
 * in it, so the daemon checks at start-up and refuses to run, naming the
 * directory and the user.
 */
#ifndef SS_HOSTUSER_H
#define SS_HOSTUSER_H

#include <stdbool.h>
#include <stddef.h>

/* plugin-host/sandbox.h's HOST_NOBODY: the uid and gid of a root daemon's hosts. */
#define HOSTUSER_NOBODY 65534

/*
 * Whether the hosts' user can open path for reading (a directory: list
 * it). As root this runs the check in a short-lived child that has become
 * that user, so permissions, ACLs and every parent directory count exactly
 * as they will for the host; it blocks for one fork, so call it before the
 * reactor runs. Returns 0, or -1 with a message naming path and the user.
 */
int hostuser_can_read(const char *path, bool dir, char *err, size_t errlen);

/* One path to check: a directory (list it) or a file (read it); the result in *err. */
struct hostuser_path {
	const char *path;
	bool dir;
	int *err; /* 0, or the errno the hosts' user would get */
};

/*
 * hostuser_can_read for n paths at once, in one child as root (one fork
 * however many paths: the daemon's start with many plugins does not fork
 * once per file). Each path's result goes to its err.
 */
void hostuser_check(const struct hostuser_path *paths, size_t n);
/* The sentence hostuser_can_read gives for path and errno e. */
void hostuser_message(const char *path, bool dir, int e, char *err, size_t errlen);

#endif
