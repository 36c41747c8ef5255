/* Writes a frame whose body is not JSON on the protocol socket. */
#include "hostile.h"

static void attack(ss_plugin *p)
{
	static const char frame[] = "\x00\x00\x00\x10GARBAGE\xff\xfe{{{{not json";

	(void)p;
	if (write(3, frame, sizeof frame - 1) < 0)
		contained(p, "write fd 3", errno);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_EVENT);
