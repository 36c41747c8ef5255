/*
 * The daemon's own endpoints: health, readiness, metrics, the event intake
 * (POST /api/events) and the runtime view of the plugins it runs.
 */
#ifndef SS_CORE_API_H
#define SS_CORE_API_H

#include <stdbool.h>
#include <stddef.h>

struct api;
struct bus;
struct supervisor;

struct core_api {
	struct bus *bus;
	struct supervisor *sup;
	bool draining;	  /* set at shutdown: new events get 503 */
	size_t batch_max; /* events per POST (default 10000) */
	/*
	 * With a database: whether it is reachable now (readiness and the
	 * streamspace_database_up gauge). NULL without one.
	 */
	bool (*database_up)(void *arg);
	void *database_arg;
};

void core_api_register(struct api *api, struct core_api *core);

#endif
