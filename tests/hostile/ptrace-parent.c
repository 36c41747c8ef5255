/* Attaches to the daemon with ptrace. */
#include <sys/ptrace.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	pid_t parent = getppid();

	if (ptrace(PTRACE_ATTACH, parent, NULL, NULL) < 0) {
		contained(p, "ptrace(PTRACE_ATTACH, parent)", errno);
		return;
	}
	escaped(p, "attached to the daemon (pid %d)", (int)parent);
	ptrace(PTRACE_DETACH, parent, NULL, NULL);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
