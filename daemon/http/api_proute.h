/*
 * Plugins' own HTTP routes, served at /api/plugins/<name>/<path> (README,
 * "API"): the plugin's running host is found through the supervisor, the
 * path matched against the routes it declared (runtime/proute.c), the
 * caller's token checked against the route's role here, before the plugin
 * hears of it, and the request forwarded as an http.request (without
 * Authorization, Cookie or framing headers); the answer is checked and sent.
 */
#ifndef SS_API_PROUTE_H
#define SS_API_PROUTE_H

#include <stddef.h>

struct api;
struct supervisor;

struct api_proute_options {
	int timeout_ms;	 /* the host's answer; past it 504 (and the host is ended as hung) */
	size_t max_body; /* of a request's body: 413 past it */
};

/* Serves the plugins' routes on api (the supervisor is borrowed, and must outlive api). */
void api_proute_register(struct api *api, struct supervisor *sup,
			 const struct api_proute_options *o);

#endif
