/* Opens /proc/self/mem for writing (the way to patch one's own code without mprotect). */
#include <fcntl.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		contained(p, "open /proc/self/mem O_RDWR", errno);
		return;
	}
	escaped(p, "opened /proc/self/mem for writing");
	close(fd);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
