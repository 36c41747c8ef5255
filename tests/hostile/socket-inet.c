/* Opens an AF_INET socket. */
#include <sys/socket.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		contained(p, "socket(AF_INET)", errno);
		return;
	}
	escaped(p, "got an AF_INET socket (fd %d)", fd);
	close(fd);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
