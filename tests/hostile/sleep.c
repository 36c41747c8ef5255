/* Sleeps for an hour before the handshake completes (in the constructor, or in on_load). */
#include "hostile.h"

static void attack(ss_plugin *p)
{
	(void)p;
	sleep(3600);
	escaped(p, "slept an hour and nobody noticed");
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
