/* Reads /etc/passwd: outside the plugin's directory, so Landlock and the filters refuse it. */
#include <fcntl.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	char buf[64];
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		contained(p, "open /etc/passwd", errno);
		return;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	for (char *c = buf; *c; c++)
		if (*c == '\n')
			*c = ' ';
	escaped(p, "read /etc/passwd: %s", buf);
	close(fd);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
