/* Creates a file in /tmp: nothing is writable anywhere. */
#include <fcntl.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	char path[64];
	int fd;

	snprintf(path, sizeof path, "/tmp/streamspace-hostile-%d", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		contained(p, "create a file in /tmp", errno);
		return;
	}
	escaped(p, "created %s", path);
	close(fd);
	unlink(path);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
