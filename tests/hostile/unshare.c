/* Enters a new user namespace and mounts a tmpfs (a writable place to stage an escape). */
#include <sched.h>
#include <sys/mount.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0)
		escaped(p, "entered new user and mount namespaces");
	else
		contained(p, "unshare(CLONE_NEWUSER|CLONE_NEWNS)", errno);
	if (mount("none", "/tmp", "tmpfs", 0, NULL) == 0)
		escaped(p, "mounted a tmpfs on /tmp");
	else
		contained(p, "mount tmpfs", errno);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
