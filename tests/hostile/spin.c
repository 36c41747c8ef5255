/* Spins forever (in the event handler: the daemon's deadline or RLIMIT_CPU ends it). */
#include "hostile.h"

static void attack(ss_plugin *p)
{
	volatile unsigned long n = 0;

	(void)p;
	for (;;)
		n++;
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_EVENT);
