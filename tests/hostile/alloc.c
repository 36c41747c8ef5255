/* Allocates and touches memory without bound (16 MiB at a time, up to 4 GiB). */
#include <stdlib.h>

#include "hostile.h"

#define CHUNK (16u << 20)
#define GOAL (4ull << 30)

/* Where each chunk is published, so no compiler may drop the malloc+memset as dead. */
static void *volatile sink;

static void attack(ss_plugin *p)
{
	unsigned long long total = 0;

	while (total < GOAL) {
		char *m = malloc(CHUNK);
		if (m == NULL) {
			char what[64];
			snprintf(what, sizeof what, "malloc after %llu MiB", total >> 20);
			contained(p, what, ENOMEM);
			return;
		}
		memset(m, 0x5a, CHUNK);
		*(void **)m = sink; /* a chain of every chunk: all of them stay reachable */
		sink = m;
		total += CHUNK;
		/* Deliberately never freed. NOLINT(clang-analyzer-unix.Malloc) */
	}
	escaped(p, "allocated %llu MiB", total >> 20);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_EVENT);
