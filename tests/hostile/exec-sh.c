/* Runs /bin/sh. If it ran, the shell itself prints ESCAPED. */
#include "hostile.h"

static void attack(ss_plugin *p)
{
	char *const argv[] = {"sh", "-c", "echo ESCAPED: exec-sh: /bin/sh ran >&2", NULL};
	char *const envp[] = {NULL};

	execve("/bin/sh", argv, envp);
	contained(p, "execve /bin/sh", errno);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
