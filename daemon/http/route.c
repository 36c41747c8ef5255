#include "route.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "xmalloc.h"

#define ROUTES_MAX 128

/* Methods by bit, in the order the Allow header lists them. */
static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE"};
enum { M_GET = 1, M_HEAD = 2, M_POST = 4, M_PUT = 8, M_DELETE = 16 };

struct route {
	unsigned method;
	char *path;
	size_t len;
	bool prefix;
	enum api_role role;
	api_handler fn;
	void *arg;
	bool held; /* router_hold */
};

struct router {
	struct route routes[ROUTES_MAX];
	size_t n;
};

static unsigned method_bit(const char *m)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strcmp(m, methods[i]) == 0)
			return 1u << i;
	return 0;
}

struct router *router_new(void)
{
	return xcalloc(1, sizeof(struct router));
}

void router_free(struct router *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->routes[i].path);
	free(r);
}

void router_add(struct router *r, const char *method, const char *path, bool prefix,
		enum api_role role, api_handler fn, void *arg)
{
	unsigned bit = method_bit(method);
	struct route *rt;

	if (bit == 0 || bit == M_HEAD)
		fatal("api_route: unknown method %s", method);
	if (r->n == ROUTES_MAX)
		fatal("api_route: more than %d routes", ROUTES_MAX);
	if (path[0] != '/' || (prefix && path[strlen(path) - 1] != '/'))
		fatal("api_route: bad path %s (a prefix route ends with /)", path);
	rt = &r->routes[r->n++];
	*rt = (struct route){bit, xstrdup(path), strlen(path), prefix, role, fn, arg, false};
}

void router_hold(struct router *r, const char *method, const char *path)
{
	unsigned bit = method_bit(method);
	bool found = false;

	for (size_t i = 0; i < r->n; i++) {
		if (r->routes[i].method == bit && strcmp(r->routes[i].path, path) == 0) {
			r->routes[i].held = true;
			found = true;
		}
	}
	if (!found)
		fatal("api_route_held: no route %s %s", method, path);
}

static bool path_matches(const struct route *r, const char *path, const char **rest)
{
	if (r->prefix) {
		/* "/a/b/" matches "/a/b", "/a/b/" and "/a/b/x", but not "/a/b/x/y". */
		if (strncmp(path, r->path, r->len - 1) != 0)
			return false;
		if (path[r->len - 1] == '\0') {
			*rest = "";
			return true;
		}
		if (path[r->len - 1] != '/' || strchr(path + r->len, '/') != NULL)
			return false;
		*rest = path + r->len;
		return true;
	}
	if (strcmp(path, r->path) != 0)
		return false;
	*rest = "";
	return true;
}

int router_match(const struct router *r, const char *method, const char *path,
		 struct route_match *m)
{
	unsigned want = method_bit(method), have = 0;
	const char *rest;

	memset(m, 0, sizeof *m);
	if (want == M_HEAD)
		want = M_GET;
	for (size_t i = r->n; i-- > 0;) {
		const struct route *rt = &r->routes[i];
		if (!path_matches(rt, path, &rest))
			continue;
		if (rt->method == want) {
			m->fn = rt->fn;
			m->arg = rt->arg;
			m->role = rt->role;
			m->held = rt->held;
			m->rest = rest;
			return 200;
		}
		have |= rt->method;
	}
	if (have == 0)
		return 404;
	if (have & M_GET)
		have |= M_HEAD;
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (!(have & (1u << i)))
			continue;
		if (m->allow[0] != '\0')
			strcat(m->allow, ", ");
		strcat(m->allow, methods[i]);
	}
	return 405;
}

/* RFC 6750's b64token: the only characters a bearer token has. */
static bool token_valid(const char *t)
{
	size_t n =
	    strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

	if (n == 0)
		return false;
	n += strspn(t + n, "=");
	return t[n] == '\0';
}

int route_authorize(api_auth_fn auth, void *auth_arg, const char *authorization, enum api_role need,
		    enum api_role *role, const char **name, const char **why)
{
	const char *token = NULL;
	int got;

	*role = API_ROLE_NONE;
	*name = NULL;
	*why = NULL;
	if (need == API_ROLE_NONE || auth == NULL)
		return 0;
	if (authorization != NULL && strncasecmp(authorization, "Bearer ", 7) == 0) {
		token = authorization + 7;
		token += strspn(token, " ");
	}
	if (token == NULL || *token == '\0') {
		*why = "a bearer token is required";
		return 401;
	}
	if (!token_valid(token)) {
		*why = "malformed bearer token";
		return 401;
	}
	got = auth(token, auth_arg, name);
	if (got < 0) {
		*name = NULL;
		*why = "cannot check the token now (database unavailable)";
		return 503;
	}
	if (got == API_ROLE_NONE) {
		*name = NULL;
		*why = "invalid or revoked token";
		return 401;
	}
	/* service may post events; admin may do everything a service or viewer may. */
	if ((enum api_role)got < need || (need == API_ROLE_ADMIN && got != API_ROLE_ADMIN)) {
		*name = NULL;
		*why = "this token's role may not do that";
		return 403;
	}
	*role = (enum api_role)got;
	return 0;
}
