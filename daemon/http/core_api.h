/*
 * The daemon's own endpoints: health, readiness, metrics, the event intake
 * (POST /api/events) and the runtime view of the plugins it runs.
 */
#ifndef SS_CORE_API_H
#define SS_CORE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct api;
struct bus;
struct jobs;
struct outbox;
struct deliver;
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
	/*
	 * With a database: events are accepted into the outbox (202 after the
	 * commit), refused with 503 while outbox_pending_max are waiting to be
	 * stored. NULL without one: the in-memory bus accepts them.
	 */
	struct outbox *outbox;
	size_t outbox_pending_max;
	/*
	 * With a database: the delivery state (runtime/deliver.h); past
	 * backlog_max undelivered events the intake answers 503 (counted).
	 */
	struct deliver *deliver;
	int64_t backlog_max;
	uint64_t shed_backlog;
	struct jobs *jobs; /* the plugins' scheduled jobs, for /metrics; NULL: none */
};

void core_api_register(struct api *api, struct core_api *core);

#endif
