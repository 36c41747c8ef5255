#include "proute.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmalloc.h"

struct route {
	char *method;
	char *pattern;
	enum proute_role role;
	size_t nseg;
	char *seg[PROUTE_SEGMENTS]; /* literal, or ":name" */
};

/*
 * Grown as routes are declared (most plugins declare none, and a host's
 * table is made at every start): a fixed PROUTE_MAX array was 10 KiB per
 * plugin of the daemon's memory. The bound is checked before it grows.
 */
struct proutes {
	struct route *routes;
	size_t n, cap;
};

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

/* Framing and hop-by-hop headers (Proxy-* too): the daemon's on either side. */
static const char *const hop_headers[] = {
    "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"};

struct proutes *proutes_new(void)
{
	return xcalloc(1, sizeof(struct proutes));
}

static void route_clear(struct route *r)
{
	free(r->method);
	free(r->pattern);
	for (size_t i = 0; i < r->nseg; i++)
		free(r->seg[i]);
	memset(r, 0, sizeof *r);
}

void proutes_free(struct proutes *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		route_clear(&t->routes[i]);
	free(t->routes);
	free(t);
}

size_t proutes_count(const struct proutes *t)
{
	return t->n;
}

static bool literal_char(int c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '~' || c == '-';
}

/* Splits path into r's segments; -1 with why when it is not a valid pattern. */
static int parse_path(struct route *r, const char *path, char *why, size_t len)
{
	const char *p = path;

	if (path[0] != '/' || strlen(path) > PROUTE_PATH_MAX) {
		snprintf(why, len, "a route path starts with \"/\" and has at most %d bytes",
			 PROUTE_PATH_MAX);
		return -1;
	}
	if (strcmp(path, "/") == 0)
		return 0;
	while (*p == '/') {
		const char *s = ++p;
		bool param = *s == ':';

		if (param)
			p++;
		while (*p != '\0' && *p != '/') {
			int c = (unsigned char)*p;
			bool ok = param ? (islower(c) || c == '_' || (isdigit(c) && p > s + 1))
					: literal_char(c);
			if (!ok) {
				snprintf(why, len, "route path \"%.64s\": '%c' is not allowed %s",
					 path, isprint(c) ? c : '?',
					 param ? "in a :param name ([a-z_][a-z0-9_]*)"
					       : "in a segment ([A-Za-z0-9._~-])");
				return -1;
			}
			p++;
		}
		if (p == s || (param && p == s + 1)) {
			snprintf(why, len, "route path \"%.64s\" has an empty segment%s", path,
				 param ? " name" : "");
			return -1;
		}
		if (r->nseg == PROUTE_SEGMENTS) {
			snprintf(why, len, "route path \"%.64s\" has more than %d segments", path,
				 PROUTE_SEGMENTS);
			return -1;
		}
		r->seg[r->nseg] = xstrndup(s, (size_t)(p - s));
		for (size_t i = 0; param && i < r->nseg; i++)
			if (strcmp(r->seg[i], r->seg[r->nseg]) == 0) {
				snprintf(why, len, "route path \"%.64s\" names %s twice", path,
					 r->seg[i]);
				free(r->seg[r->nseg]);
				r->seg[r->nseg] = NULL;
				return -1;
			}
		r->nseg++;
	}
	return 0;
}

/* Two routes have the same shape when their segments match the same paths. */
static bool same_shape(const struct route *a, const struct route *b)
{
	if (a->nseg != b->nseg)
		return false;
	for (size_t i = 0; i < a->nseg; i++) {
		bool pa = a->seg[i][0] == ':', pb = b->seg[i][0] == ':';
		if (pa != pb || (!pa && strcmp(a->seg[i], b->seg[i]) != 0))
			return false;
	}
	return true;
}

int proutes_add(struct proutes *t, json_object *decl, char *why, size_t len)
{
	struct route r = {0};
	const char *method = NULL, *path = NULL, *role = NULL;
	bool public = false;

	if (!json_object_is_type(decl, json_type_object)) {
		snprintf(why, len, "a route is an object {method, path, public, role}");
		return -1;
	}
	json_object_object_foreach(decl, key, val)
	{
		bool str = json_object_is_type(val, json_type_string);
		if (strcmp(key, "method") == 0 && str)
			method = json_object_get_string(val);
		else if (strcmp(key, "path") == 0 && str)
			path = json_object_get_string(val);
		else if (strcmp(key, "role") == 0 && str)
			role = json_object_get_string(val);
		else if (strcmp(key, "public") == 0 && json_object_is_type(val, json_type_boolean))
		public = json_object_get_boolean(val);
		else
		{
			snprintf(why, len, "route field \"%.32s\" is unknown or of the wrong type",
				 key);
			return -1;
		}
	}
	if (method == NULL || path == NULL) {
		snprintf(why, len, "a route needs a method and a path");
		return -1;
	}
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
		if (strcmp(method, methods[i]) == 0)
			r.method = xstrdup(method);
	if (r.method == NULL) {
		snprintf(why, len, "route method \"%.16s\" is not GET, POST, PUT, PATCH or DELETE",
			 method);
		return -1;
	}
	if (public && role != NULL) {
		snprintf(why, len, "a public route needs no role");
		goto fail;
	}
	if (public)
		r.role = PROUTE_PUBLIC;
	else if (role == NULL || strcmp(role, "viewer") == 0)
		r.role = PROUTE_VIEWER;
	else if (strcmp(role, "service") == 0)
		r.role = PROUTE_SERVICE;
	else if (strcmp(role, "admin") == 0)
		r.role = PROUTE_ADMIN;
	else {
		snprintf(why, len, "route role \"%.16s\" is not viewer, service or admin", role);
		goto fail;
	}
	if (parse_path(&r, path, why, len) < 0)
		goto fail;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->routes[i].method, r.method) == 0 && same_shape(&t->routes[i], &r)) {
			snprintf(why, len, "route %s %.64s overlaps %s %.64s", r.method, path,
				 t->routes[i].method, t->routes[i].pattern);
			goto fail;
		}
	if (t->n == PROUTE_MAX) {
		snprintf(why, len, "a plugin has at most %d routes", PROUTE_MAX);
		goto fail;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 4;
		if (t->cap > PROUTE_MAX)
			t->cap = PROUTE_MAX;
		t->routes = xrealloc(t->routes, t->cap * sizeof *t->routes);
	}
	r.pattern = xstrdup(path);
	t->routes[t->n++] = r;
	return 0;
fail:
	route_clear(&r);
	return -1;
}

static int hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes [s, s+n) into a new string; NULL when malformed or decoding to NUL or '/'. */
static char *decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
		int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
		if (hi >= 0 && lo >= 0 && (hi << 4 | lo) != 0 && (hi << 4 | lo) != '/') {
			*o++ = (char)(hi << 4 | lo);
			i += 2;
			continue;
		}
		free(out);
		return NULL;
	}
	*o = '\0';
	return out;
}

/*
 * Whether route r has the path split in segs; the score ranks matches
 * (a bit per segment, set where it is literal, leftmost highest).
 */
static bool route_fits(const struct route *r, const char *const *segs, const size_t *lens,
		       size_t nseg, uint32_t *score)
{
	if (r->nseg != nseg)
		return false;
	*score = 0;
	for (size_t i = 0; i < nseg; i++) {
		bool param = r->seg[i][0] == ':';
		if (!param && (strlen(r->seg[i]) != lens[i] || memcmp(r->seg[i], segs[i], lens[i])))
			return false;
		if (!param)
			*score |= UINT32_C(1) << (PROUTE_SEGMENTS - 1 - i);
	}
	return true;
}

int proutes_match(const struct proutes *t, const char *method, const char *path,
		  struct proute_match *m)
{
	const char *segs[PROUTE_SEGMENTS], *p = path;
	size_t lens[PROUTE_SEGMENTS], nseg = 0;
	const struct route *best = NULL;
	uint32_t best_score = 0;
	bool any = false;
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;

	memset(m, 0, sizeof *m);
	if (*p != '\0' && strcmp(p, "/") != 0) {
		if (*p != '/')
			return 404;
		while (*p == '/') {
			const char *s = ++p;
			while (*p != '\0' && *p != '/')
				p++;
			if (p == s || nseg == PROUTE_SEGMENTS)
				return 404; /* "//", a trailing "/", or deeper than any route */
			segs[nseg] = s;
			lens[nseg++] = (size_t)(p - s);
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct route *r = &t->routes[i];
		uint32_t score;

		if (!route_fits(r, segs, lens, nseg, &score))
			continue;
		if (!any)
			m->allow[0] = '\0';
		if (!strstr(m->allow, r->method)) {
			size_t l = strlen(m->allow);
			snprintf(m->allow + l, sizeof m->allow - l, "%s%s%s", l ? ", " : "",
				 r->method, strcmp(r->method, "GET") == 0 ? ", HEAD" : "");
		}
		any = true;
		if (strcmp(r->method, want) == 0 && (best == NULL || score > best_score)) {
			best = r;
			best_score = score;
		}
	}
	if (best == NULL)
		return any ? 405 : 404;
	m->params = json_object_new_object();
	for (size_t i = 0; i < nseg; i++) {
		if (best->seg[i][0] != ':')
			continue;
		char *v = decode(segs[i], lens[i]);
		if (v == NULL) {
			json_object_put(m->params);
			m->params = NULL;
			return 400;
		}
		json_object_object_add(m->params, best->seg[i] + 1, json_object_new_string(v));
		free(v);
	}
	m->index = (size_t)(best - t->routes);
	m->role = best->role;
	m->method = best->method;
	m->pattern = best->pattern;
	return 200;
}

static bool tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

bool http_header_syntax_ok(const char *name, const char *value)
{
	if (name[0] == '\0' || strlen(name) > 256 || strlen(value) > PROUTE_HEADER_VALUE_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!tchar((unsigned char)*p))
			return false;
	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

bool http_header_hop_by_hop(const char *name)
{
	for (size_t i = 0; i < sizeof hop_headers / sizeof *hop_headers; i++)
		if (strcasecmp(name, hop_headers[i]) == 0)
			return true;
	return strncasecmp(name, "proxy-", 6) == 0;
}

bool proute_header_allowed(const char *name, const char *value)
{
	/* Date and Server are the daemon's too: it answers the HTTP request. */
	return http_header_syntax_ok(name, value) && !http_header_hop_by_hop(name) &&
	       strcasecmp(name, "date") != 0 && strcasecmp(name, "server") != 0;
}

int proute_check_answer(json_object *reply, int *status, char *why, size_t len)
{
	json_object *st = NULL, *hdrs = NULL, *body = NULL;
	int64_t s = 200;

	if (json_object_object_get_ex(reply, "status", &st)) {
		if (!json_object_is_type(st, json_type_int) ||
		    (s = json_object_get_int64(st)) < 200 || s > 599) {
			snprintf(why, len, "the status is an integer 200-599");
			return -1;
		}
	}
	if (json_object_object_get_ex(reply, "body", &body) &&
	    !json_object_is_type(body, json_type_string)) {
		snprintf(why, len, "the body is a string");
		return -1;
	}
	if (json_object_object_get_ex(reply, "headers", &hdrs)) {
		if (!json_object_is_type(hdrs, json_type_object) ||
		    json_object_object_length(hdrs) > PROUTE_HEADERS_MAX) {
			snprintf(why, len, "the headers are an object of at most %d strings",
				 PROUTE_HEADERS_MAX);
			return -1;
		}
		json_object_object_foreach(hdrs, name, val)
		{
			if (!json_object_is_type(val, json_type_string) ||
			    !proute_header_allowed(name, json_object_get_string(val))) {
				snprintf(why, len, "header \"%.64s\" may not be set by a plugin",
					 name);
				return -1;
			}
		}
	}
	*status = (int)s;
	return 0;
}
