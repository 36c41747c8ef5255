/* Calls abort(). */
#include <stdlib.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	(void)p;
	abort();
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_EVENT);
