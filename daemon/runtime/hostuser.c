#define _GNU_SOURCE
#include "hostuser.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Opens path as the calling user; 0 or an errno. */
static int try_open(const char *path, bool dir)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (dir ? O_DIRECTORY : 0));

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/*
 * The check as nobody: a child drops its groups and ids exactly as the host
 * does and reports the open's errno as its exit status (0 for success).
 */
static int try_open_as_nobody(const char *path, bool dir)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return errno;
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 ||
		    setresgid(HOSTUSER_NOBODY, HOSTUSER_NOBODY, HOSTUSER_NOBODY) < 0 ||
		    setresuid(HOSTUSER_NOBODY, HOSTUSER_NOBODY, HOSTUSER_NOBODY) < 0)
			_exit(255);
		_exit(try_open(path, dir) & 0xff);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 255)
		return EPERM;
	return WEXITSTATUS(status);
}

int hostuser_can_read(const char *path, bool dir, char *err, size_t errlen)
{
	bool root = geteuid() == 0;
	int e = root ? try_open_as_nobody(path, dir) : try_open(path, dir);

	if (e == 0)
		return 0;
	if (root)
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
	return -1;
}
