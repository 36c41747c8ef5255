/* Announces a 4 GiB frame on the protocol socket: the daemon must refuse it unread. */
#include "hostile.h"

static void attack(ss_plugin *p)
{
	static const unsigned char hdr[4] = {0xff, 0xff, 0xff, 0xff};

	(void)p;
	if (write(3, hdr, sizeof hdr) < 0)
		contained(p, "write fd 3", errno);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_EVENT);
