/*
 * proute: a plugin's HTTP routes (ss_route, hello's "routes"), with no HTTP
 * server or host in sight so that the rules have unit tests: which
 * declarations are accepted, which route a request under
 * /api/plugins/<name>/ reaches and with which :params, and which answers a
 * plugin may give (status and headers; framing and hop-by-hop headers are
 * the daemon's, never a plugin's).
 */
#ifndef SS_PROUTE_H
#define SS_PROUTE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define PROUTE_MAX 64	      /* routes per plugin */
#define PROUTE_PATH_MAX 256   /* bytes of a declared path */
#define PROUTE_SEGMENTS 16    /* segments of a declared path */
#define PROUTE_HEADERS_MAX 64 /* headers in a plugin's answer */
#define PROUTE_HEADER_VALUE_MAX 8192

/* Who may call a route: anyone, or a token of at least this role. */
enum proute_role { PROUTE_PUBLIC, PROUTE_VIEWER, PROUTE_SERVICE, PROUTE_ADMIN };

struct proutes;

struct proutes *proutes_new(void);
void proutes_free(struct proutes *t);
size_t proutes_count(const struct proutes *t);

/*
 * Adds the route decl declares: {"method": "GET"|"POST"|"PUT"|"PATCH"|"DELETE",
 * "path": "/items/:id", "public": bool (default false), "role": "viewer"|
 * "service"|"admin" (default "viewer"; not with public)}. A path is "/" or
 * "/"-separated segments of [A-Za-z0-9._~-] or ":name" ([a-z_][a-z0-9_]*,
 * each name once). Returns 0, or -1 with why in a sentence (an unknown field,
 * a malformed path, a route with the same method and shape as one already
 * there, more than PROUTE_MAX): nothing is added then.
 */
int proutes_add(struct proutes *t, json_object *decl, char *why, size_t len);

struct proute_match {
	size_t index; /* the route's position, in the order added */
	enum proute_role role;
	const char *method, *pattern; /* the route's, borrowed from the table */
	json_object *params;	      /* new: {"id": "42"}, percent-decoded */
	char allow[64];		      /* 405: the methods the path has */
};

/*
 * Finds the route for method ("HEAD" is served by GET routes) and path (the
 * part after /api/plugins/<name>, "" meaning "/"; without the query).
 * Returns 200 (m filled, m->params to be put by the caller), 404 (no route
 * has the path), 405 (routes have the path, not the method; m->allow set) or
 * 400 (a segment's percent-encoding is malformed or decodes to NUL or "/").
 * A literal segment is preferred to a :param in the same place, leftmost
 * first, so "/items/new" beats "/items/:id".
 */
int proutes_match(const struct proutes *t, const char *method, const char *path,
		  struct proute_match *m);

/*
 * Checks a plugin's answer to a route call: reply's "status" (an integer
 * 200-599; none: 200), "headers" (an object of string values, at most
 * PROUTE_HEADERS_MAX) and "body" (a string, or absent). Header names are
 * HTTP tokens and not one the daemon owns (Content-Length,
 * Transfer-Encoding, Connection, Keep-Alive, Upgrade, TE, Trailer, Proxy-*,
 * Date, Server); values hold no CR, LF, NUL or other control but tab.
 * Returns 0 with *status, or -1 with why.
 */
int proute_check_answer(json_object *reply, int *status, char *why, size_t len);

/*
 * The syntax of a header, whoever sets it: the name an HTTP token of at
 * most 256 bytes, the value at most PROUTE_HEADER_VALUE_MAX bytes with no
 * CR, LF, NUL or other control but tab (no header can be smuggled in).
 */
bool http_header_syntax_ok(const char *name, const char *value);

/*
 * Whether name is a framing or hop-by-hop header (Content-Length,
 * Transfer-Encoding, Connection, Keep-Alive, Upgrade, TE, Trailer, Proxy-*):
 * the daemon's to set on either side of a plugin, never the plugin's.
 */
bool http_header_hop_by_hop(const char *name);

/* The rule for one header of an answer, as proute_check_answer applies it. */
bool proute_header_allowed(const char *name, const char *value);

#endif
