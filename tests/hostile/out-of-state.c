/*
 * Writes a well-formed message at the wrong time: "ready" before hello (in
 * the constructor) or while serving (in the event handler).
 */
#include "hostile.h"

static void attack(ss_plugin *p)
{
	static const char body[] = "{\"t\":\"ready\",\"subscriptions\":[\"*\"]}";
	unsigned char frame[4 + sizeof body];
	size_t n = sizeof body - 1;

	(void)p;
	frame[0] = 0;
	frame[1] = 0;
	frame[2] = (unsigned char)(n >> 8);
	frame[3] = (unsigned char)n;
	memcpy(frame + 4, body, n);
	if (write(3, frame, 4 + n) < 0)
		contained(p, "write fd 3", errno);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_EVENT);
