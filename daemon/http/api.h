/*
 * The HTTP API: a route table that modules add to, JSON replies and errors in
 * one shape, request bodies read with a limit, and bearer-token
 * authentication through a callback the registry provides. Handlers see only
 * struct api_req, never the HTTP library.
 */
#ifndef SS_API_H
#define SS_API_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "route.h"

struct event_base;
struct api;

/*
 * One HTTP request as handlers see it; the HTTP library underneath is api.c's
 * business alone. A request stays valid until it has been answered (once, by
 * api_reply_*), then it is freed: a handler may keep it and answer later
 * (after a database round trip), even if the client has gone away meanwhile.
 */
struct api_req;

struct api_options {
	const char *listen; /* "HOST:PORT" */
	size_t max_body;    /* JSON 413 above this; default 1 MiB */
	int timeout_ms;	    /* a whole request, and an idle connection; default 30000 */
	/* Fairness with the plugin hosts: see httpd_options. */
	int turn_requests;
	int hold_max_ms;
	void (*hold_expired)(void *arg);
	void *hold_arg;
};

struct api *api_new(struct event_base *base, const struct api_options *opts, char *err,
		    size_t errlen);
void api_free(struct api *api);
/* The port actually bound (useful with port 0). */
int api_port(const struct api *api);
/* Stops accepting new connections (shutdown). */
void api_close_listener(struct api *api);
/* Holds or lifts the held routes' requests not yet handed on (httpd_hold): the bus's pressure. */
void api_hold(struct api *api, bool on);

/*
 * Adds a route. method is "GET", "POST", "PUT" or "DELETE". With prefix true,
 * path matches itself and anything below it (path must end with '/').
 * Later routes take precedence over earlier ones with the same method and path.
 */
void api_route(struct api *api, const char *method, const char *path, bool prefix,
	       enum api_role role, api_handler fn, void *arg);

/*
 * The route with method and path (added before) adds events to the bus: while
 * the bus holds the ingress (api_hold) its requests wait. Requests of every
 * other route are served during a hold.
 */
void api_route_held(struct api *api, const char *method, const char *path);

/*
 * Every request under prefix (ending in '/') that no route has, whatever its
 * method, goes to fn with rest = the path after prefix; fn authorizes it
 * (api_req_authorize). One subtree per API: the plugins' own routes.
 */
void api_subtree(struct api *api, const char *prefix, api_handler fn, void *arg);

/*
 * The role rule for need, as routes get it before their handler: 0 when the
 * caller may go on (api_req_user/role set), else -1 after answering 401,
 * 403 or 503.
 */
int api_req_authorize(struct api_req *req, enum api_role need);

/* The raw query string (after '?'), or NULL. */
const char *api_req_query(const struct api_req *req);
/* Every query parameter, decoded, the first of each name: {"k": "v"} (new). */
json_object *api_query_object(struct api_req *req);
/* The body as received (not NUL-terminated; *len bytes; "" when none). */
const char *api_req_body(const struct api_req *req, size_t *len);
/* The request's headers in order, names as the client wrote them. */
size_t api_req_header_count(const struct api_req *req);
void api_req_header_at(const struct api_req *req, size_t i, const char **name, const char **value);

/* With an authenticator set, routes above API_ROLE_NONE need a bearer token. */
void api_set_auth(struct api *api, api_auth_fn fn, void *arg);

/* The request's method ("GET", ...) and path (without the query). */
const char *api_req_method(const struct api_req *req);
const char *api_req_path(const struct api_req *req);
/* A request header (the first of that name), or NULL. */
const char *api_req_header(const struct api_req *req, const char *name);
/* A query parameter of the request's URI (decoded, caller frees), or NULL. */
char *api_query_param(struct api_req *req, const char *key);
/*
 * The caller: the authenticated token's name ("anonymous" on routes that
 * need none) and its role (API_ROLE_NONE there).
 */
const char *api_req_user(const struct api_req *req);
enum api_role api_req_role(const struct api_req *req);

/*
 * Reads the request body as JSON. On success returns 0 and *out (a new
 * reference). On failure it has already replied (400 bad_json, 413 too_large)
 * and returns -1. An empty body yields an empty object when allow_empty.
 */
int api_read_json(struct api_req *req, bool allow_empty, json_object **out);

/* Adds a header to the answer (before api_reply_*); a Cache-Control replaces no-store. */
void api_reply_header(struct api_req *req, const char *name, const char *value);
/* Replies with status and body (consumed); req is freed. */
void api_reply_json(struct api_req *req, int status, json_object *body);
/* Replies {"error": {"code": code, "message": ...}} with status; req is freed. */
void api_reply_error(struct api_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Replies with len bytes of data as content_type (not JSON: /metrics); req is freed. */
void api_reply_data(struct api_req *req, int status, const char *content_type, const void *data,
		    size_t len);

/*
 * A streamed answer (server-sent events): api_reply_stream sends the head
 * (200, content_type, the headers added so far, no-store) and frees req;
 * from then on api_stream_write queues bytes to the client. At most
 * max_pending bytes wait for a client that does not read: a write beyond
 * that ends the stream (-1, s freed). closed(arg) is called once when the
 * client goes away or the server is freed, from the loop; s is freed after
 * it. NULL when the client had already gone (closed is not called).
 */
struct api_stream;
typedef void (*api_stream_closed_fn)(void *arg);
struct api_stream *api_reply_stream(struct api_req *req, const char *content_type,
				    size_t max_pending, api_stream_closed_fn closed, void *arg);
int api_stream_write(struct api_stream *s, const void *data, size_t len);
/* Ends the stream once what is queued is written; s is freed, closed is not called. */
void api_stream_close(struct api_stream *s);

#endif
