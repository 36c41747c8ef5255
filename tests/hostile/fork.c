/* Forks a child process. */
#include <sys/wait.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	pid_t pid = fork();

	if (pid < 0) {
		contained(p, "fork", errno);
		return;
	}
	if (pid == 0) {
		hostile_stderr("ESCAPED: fork: the child runs");
		_exit(0);
	}
	escaped(p, "forked child %d", (int)pid);
	waitpid(pid, NULL, 0);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
