/*
 * The HTTP API (evhttp): a route table that modules add to, JSON replies and
 * errors in one shape, request bodies read with a limit, and bearer-token
 * authentication through a callback the registry provides.
 */
#ifndef SS_API_H
#define SS_API_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evhttp_request;
struct api;

enum api_role {
	API_ROLE_NONE = 0, /* no token needed (healthz, metrics) */
	API_ROLE_VIEWER,   /* any valid token */
	API_ROLE_SERVICE,  /* service or admin */
	API_ROLE_ADMIN,
};

/*
 * A route handler. rest is the part of the path after the route's prefix
 * (for "/api/plugins/marketplace/installed/" and ".../installed/hello", "hello");
 * it is "" for an exact route. The handler must reply, now or later.
 */
typedef void (*api_handler)(struct evhttp_request *req, const char *rest, void *arg);

/*
 * Resolves a bearer token to the role it grants, or API_ROLE_NONE when the
 * token is unknown or revoked. Returns -1 when it cannot tell right now (the
 * database is down and the token is not cached): the API answers 503.
 */
typedef int (*api_auth_fn)(const char *token, void *arg);

struct api_options {
	const char *listen; /* "HOST:PORT" */
	size_t max_body;    /* JSON 413 above this; default 1 MiB */
};

struct api *api_new(struct event_base *base, const struct api_options *opts, char *err,
		    size_t errlen);
void api_free(struct api *api);
/* The port actually bound (useful with port 0). */
int api_port(const struct api *api);
/* Stops accepting new connections (shutdown). */
void api_close_listener(struct api *api);

/*
 * Adds a route. method is "GET", "POST", "PUT" or "DELETE". With prefix true,
 * path matches itself and anything below it (path must end with '/').
 * Later routes take precedence over earlier ones with the same method and path.
 */
void api_route(struct api *api, const char *method, const char *path, bool prefix,
	       enum api_role role, api_handler fn, void *arg);

/* With an authenticator set, routes above API_ROLE_NONE need a bearer token. */
void api_set_auth(struct api *api, api_auth_fn fn, void *arg);

/* Replies with status and body (consumed). */
void api_reply_json(struct evhttp_request *req, int status, json_object *body);
/* Replies {"error": {"code": code, "message": ...}} with status. */
void api_reply_error(struct evhttp_request *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Reads the request body as JSON. On success returns 0 and *out (a new
 * reference). On failure it has already replied (400 bad_json, 413 too_large)
 * and returns -1. An empty body yields an empty object when allow_empty.
 */
int api_read_json(struct evhttp_request *req, bool allow_empty, json_object **out);

/* A query parameter of the request's URI (decoded, caller frees), or NULL. */
char *api_query_param(struct evhttp_request *req, const char *key);

#endif
