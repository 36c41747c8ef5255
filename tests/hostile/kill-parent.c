/*
 * Kills the daemon, then probes pid 1 (signal 0: only the permission check,
 * so a hole here would not take the test machine down). In the host's own
 * PID namespace the parent is outside (getppid() is 0) and pid 1 is this
 * process itself: signalling ourselves is no escape.
 */
#include <signal.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	pid_t parent = getppid();

	if (kill(parent, SIGKILL) == 0)
		escaped(p, "SIGKILL sent to the daemon (pid %d)", (int)parent);
	else
		contained(p, "kill(parent, SIGKILL)", errno);
	if (getpid() == 1)
		contained(p, "kill(1, 0): pid 1 is ourselves (own PID namespace)", ESRCH);
	else if (kill(1, 0) == 0)
		escaped(p, "allowed to signal pid 1");
	else
		contained(p, "kill(1, 0)", errno);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
