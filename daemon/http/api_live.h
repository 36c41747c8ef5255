/*
 * What the plugins do now, live: GET /api/plugins/marketplace/stream, the
 * state of every plugin the daemon runs as server-sent events (a snapshot,
 * then each change as it happens), and GET .../logs/{name}, a plugin's
 * recent log lines. Both read the supervisor only; the stream is one of its
 * watchers (supervisor_watch).
 */
#ifndef SS_API_LIVE_H
#define SS_API_LIVE_H

#include <stddef.h>

struct api;
struct event_base;
struct supervisor;
struct api_live;

struct api_live_options {
	size_t max_clients; /* streams open at once; one more is 503 (default 16) */
	int heartbeat_ms;   /* a comment line this often keeps proxies from timing out (15000) */
	size_t max_pending; /* bytes queued to a client that does not read before it is dropped
			       (0: 512 KiB) */
};

struct api_live *api_live_new(struct event_base *base, struct api *api, struct supervisor *sup,
			      const struct api_live_options *o);
/* Ends every stream (their clients see the connection close) and stops watching. */
void api_live_free(struct api_live *live);

#endif
