/*
 * route: which handler a request goes to and who may call it, with no HTTP
 * library in sight (so that both rules have unit tests): the route table
 * (exact and prefix paths, method matching, 404 against 405 with the Allow
 * list) and the role rule of bearer tokens.
 */
#ifndef SS_ROUTE_H
#define SS_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

struct router;
struct api_req; /* api.h */

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
typedef void (*api_handler)(struct api_req *req, const char *rest, void *arg);

/*
 * Resolves a bearer token to the role it grants, or API_ROLE_NONE when the
 * token is unknown or revoked; *name is then the token's name (copied by the
 * API before the request goes on). Returns -1 when it cannot tell right now
 * (the database is down and the token is not cached): the API answers 503.
 */
typedef int (*api_auth_fn)(const char *token, void *arg, const char **name);

/* Every method a route can have, as an Allow header lists them. */
#define ROUTE_METHODS "GET, HEAD, POST, PUT, DELETE"

struct router *router_new(void);
void router_free(struct router *r);
/* As api_route (api.h); method is "GET", "POST", "PUT" or "DELETE". */
void router_add(struct router *r, const char *method, const char *path, bool prefix,
		enum api_role role, api_handler fn, void *arg);
/* As api_route_held (api.h): the routes added so far with method and path. */
void router_hold(struct router *r, const char *method, const char *path);

struct route_match {
	api_handler fn;
	void *arg;
	enum api_role role;
	bool held;	  /* router_hold: the bus's hold keeps it */
	const char *rest; /* into the path given */
	char allow[64];	  /* 405: the methods the path has, "GET, HEAD, POST" */
};

/*
 * Finds the route for method ("HEAD" is served by GET routes) and path:
 * 200 and m filled, 404 when no route has the path, 405 (m->allow set)
 * when routes have the path but not the method. Later routes win.
 */
int router_match(const struct router *r, const char *method, const char *path,
		 struct route_match *m);

/*
 * The role rule. authorization is the request's Authorization header (or
 * NULL); need the route's role. Returns 0 when the call may go on (*role,
 * *name: the token's, NULL for API_ROLE_NONE routes or without an
 * authenticator), else the status to answer: 401 (no, malformed, unknown or
 * revoked token), 403 (the token's role is not enough), 503 (the
 * authenticator cannot tell now). *why says which, for the error message.
 */
int route_authorize(api_auth_fn auth, void *auth_arg, const char *authorization, enum api_role need,
		    enum api_role *role, const char **name, const char **why);

#endif
