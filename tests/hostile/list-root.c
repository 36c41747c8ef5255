/* Lists the root directory. */
#include <dirent.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	DIR *d = opendir("/");
	int n = 0;

	if (d == NULL) {
		contained(p, "opendir /", errno);
		return;
	}
	while (readdir(d) != NULL)
		n++;
	escaped(p, "listed / (%d entries)", n);
	closedir(d);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
