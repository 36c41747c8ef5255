/*
 * Floods stderr (about 10 MB) with fprintf, then behaves. The daemon reads
 * and rate-limits the pipe; the host must neither block nor die of it.
 */
#include "hostile.h"

static void attack(ss_plugin *p)
{
	for (int i = 0; i < 100000; i++)
		fprintf(stderr,
			"flood %06d "
			".........................................................................."
			".................\n",
			i);
	if (p != NULL)
		ss_log(p, SS_INFO, "flood done");
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
