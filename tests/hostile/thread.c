/* Starts a thread (the host is single-threaded by design). */
#include <pthread.h>

#include "hostile.h"

static void *run(void *arg)
{
	return arg;
}

static void attack(ss_plugin *p)
{
	pthread_t t;
	int r = pthread_create(&t, NULL, run, NULL);

	if (r != 0) {
		contained(p, "pthread_create", r);
		return;
	}
	escaped(p, "started a thread");
	pthread_join(t, NULL);
}

HOSTILE_PLUGIN(attack, HOSTILE_ON_LOAD);
