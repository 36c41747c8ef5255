/*
 * The protocol side of a plugin's HTTP routes (PROTOCOL.md, "Routes"), kept
 * out of peer.c: the http.request (route_add.c answers the declarations), a kind of
 * daemon request on top of peer_request as config is (peer_config.c). The
 * peer owns the table and the outstanding requests; the front end
 * (http/api_proute.c) decides HTTP.
 */
#ifndef SS_PEER_ROUTE_H
#define SS_PEER_ROUTE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "proute.h"

/* Route requests a host may have outstanding at once (PROTOCOL.md's bound). */
#define PEER_ROUTE_WINDOW 128

/* What the caller of a route is, as the daemon authenticated it. */
struct peer_route_caller {
	const char *name; /* the token's name; NULL on a public route */
	const char *role; /* "viewer", "service", "admin"; NULL on a public route */
};

/*
 * The fields of an http.request (new, without t and id) for match: method,
 * path, params (taken over from match), query and headers (objects,
 * consumed), body (len bytes, UTF-8 text) and the caller.
 */
json_object *peer_route_message(struct proute_match *match, const char *method, const char *path,
				json_object *query, json_object *headers, const char *body,
				size_t len, const struct peer_route_caller *caller);

/*
 * The host's answer to an http.request: reply (borrowed: the host's reply
 * message, ok or error) and code NULL, or reply NULL and code "timeout"
 * (the deadline passed: the peer is ended as hung) or "lost" (the
 * conversation ended first).
 */
typedef void (*peer_route_fn)(void *arg, json_object *reply, const char *code);

struct peer;

/*
 * Sends the http.request with fields m (consumed; timeout_ms is added) to a
 * serving host, due within timeout_ms (paused while the handler waits on a
 * call); answer is called exactly once, from the loop or from peer_free.
 * -1 when the peer is not serving or has PEER_ROUTE_WINDOW requests
 * outstanding (nothing sent, answer not called).
 */
int peer_route_send(struct peer *peer, json_object *m, int timeout_ms, peer_route_fn answer,
		    void *arg);

#endif
