/*
 * Undoes the process flags the host set before loading: makes itself
 * dumpable again (with junk in the upper half of the option register, which
 * the kernel ignores but a careless filter compares) and clears the
 * parent-death signal, so it would outlive the daemon.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	int sig = -1;

	if (syscall(SYS_prctl, (unsigned long)PR_SET_DUMPABLE | (1ul << 32), 1ul, 0ul, 0ul, 0ul) <
	    0)
		contained(p, "prctl(PR_SET_DUMPABLE | 1 << 32, 1)", errno);
	if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
		contained(p, "prctl(PR_SET_PDEATHSIG, 0)", errno);
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		escaped(p, "dumpable again");
	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == 0 && sig != SIGKILL)
		escaped(p, "parent-death signal cleared (now %d)", sig);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
