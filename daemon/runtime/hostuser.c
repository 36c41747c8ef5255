#define _GNU_SOURCE
#include "hostuser.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xmalloc.h"

/* Opens path as the calling user; 0 or an errno. */
static int try_open(const char *path, bool dir)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (dir ? O_DIRECTORY : 0));

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Reads exactly n bytes; -1 on a short read or an error (the child died). */
static int read_all(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * The checks as nobody, all in one child: it drops its groups and ids
 * exactly as the host does, opens each path and writes one errno per path
 * (0 for success) to a pipe. One fork for every path, not one each: a
 * daemon with many --plugin would otherwise pay a fork of its whole address
 * space per file before its reactor starts. A child that could not become
 * nobody, or died, leaves every path at EPERM.
 */
static void try_open_as_nobody(const struct hostuser_path *paths, size_t n)
{
	int p[2], status;
	pid_t pid;

	for (size_t i = 0; i < n; i++)
		paths[i].err[0] = EPERM;
	if (pipe2(p, O_CLOEXEC) < 0) {
		for (size_t i = 0; i < n; i++)
			paths[i].err[0] = errno;
		return;
	}
	pid = fork();
	if (pid < 0) {
		for (size_t i = 0; i < n; i++)
			paths[i].err[0] = errno;
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		if (setgroups(0, NULL) < 0 ||
		    setresgid(HOSTUSER_NOBODY, HOSTUSER_NOBODY, HOSTUSER_NOBODY) < 0 ||
		    setresuid(HOSTUSER_NOBODY, HOSTUSER_NOBODY, HOSTUSER_NOBODY) < 0)
			_exit(255);
		for (size_t i = 0; i < n; i++) {
			int e = try_open(paths[i].path, paths[i].dir);
			if (write(p[1], &e, sizeof e) != (ssize_t)sizeof e)
				_exit(255);
		}
		_exit(0);
	}
	close(p[1]);
	int *errs = xcalloc(n ? n : 1, sizeof *errs);
	bool got = read_all(p[0], errs, n * sizeof *errs) == 0;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			break;
	if (got)
		for (size_t i = 0; i < n; i++)
			paths[i].err[0] = errs[i];
	free(errs);
}

void hostuser_check(const struct hostuser_path *paths, size_t n)
{
	if (geteuid() == 0) {
		try_open_as_nobody(paths, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		paths[i].err[0] = try_open(paths[i].path, paths[i].dir);
}

void hostuser_message(const char *path, bool dir, int e, char *err, size_t errlen)
{
	if (geteuid() == 0)
		snprintf(err, errlen,
			 "%s %s is not readable by nobody (uid %d), the user plugin hosts run as "
			 "under a root daemon: %s; make it (and every directory above it) "
			 "readable and searchable by that user",
			 dir ? "plugin directory" : "plugin", path, HOSTUSER_NOBODY, strerror(e));
	else
		snprintf(
		    err, errlen,
		    "%s %s is not readable by uid %d, the daemon's user, which its plugin hosts "
		    "run as: %s",
		    dir ? "plugin directory" : "plugin", path, (int)geteuid(), strerror(e));
}

int hostuser_can_read(const char *path, bool dir, char *err, size_t errlen)
{
	int e = 0;

	hostuser_check(&(struct hostuser_path){.path = path, .dir = dir, .err = &e}, 1);
	if (e == 0)
		return 0;
	hostuser_message(path, dir, e, err, errlen);
	return -1;
}
