/*
 * Writes through a wild pointer. Not NULL itself: UBSan's null check would
 * report it as undefined behaviour before the fault happens.
 */
#include <stdint.h>

#include "hostile.h"

static void attack(ss_plugin *p)
{
	/* volatile: the compiler cannot see (or warn about) where it points. */
	static volatile uintptr_t where = 16;

	(void)p;
	*(volatile int *)where = 42;
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_EVENT);
