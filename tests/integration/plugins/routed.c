/*
 * routed: HTTP routes for test_routes.py, pg/test_routes_auth.py and the
 * route and storage benchmarks. Each route shows one thing the daemon must
 * carry or refuse: an echo of everything the plugin sees of a request, a
 * handler that sleeps past the deadline, answers HTTP cannot carry (a
 * framing header, a status out of range, a body over the frame), garbage on
 * the protocol socket, a crash, and a storage loop that measures itself.
 * Built as routed (with "routes") and routed-n (without: ss_route refused,
 * and the plugin logs what it was told).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <streamspace/plugin.h>

#ifndef ROUTED_NAME
#error "ROUTED_NAME must be defined by the build"
#endif

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : json_object_new_null();
}

/* Everything the plugin can see of the request, as JSON. */
static int echo(ss_plugin *p, const ss_request *req, ss_response *res)
{
	json_object *o = json_object_new_object(), *all = ss_req_object(req), *v = NULL;
	size_t len = 0;
	const char *body = ss_req_body(req, &len);

	json_object_object_add(o, "method", json_object_new_string(ss_req_method(req)));
	json_object_object_add(o, "path", json_object_new_string(ss_req_path(req)));
	json_object_object_add(o, "id", str_or_null(ss_req_param(req, "id")));
	json_object_object_add(o, "q", str_or_null(ss_req_query(req, "q")));
	json_object_object_add(o, "x_test", str_or_null(ss_req_header(req, "X-Test")));
	json_object_object_add(o, "caller", str_or_null(ss_req_caller(req)));
	json_object_object_add(o, "role", str_or_null(ss_req_role(req)));
	json_object_object_add(o, "body", json_object_new_string_len(body, (int)len));
	json_object_object_add(o, "json", json_object_get(ss_req_json(req)));
	if (json_object_object_get_ex(all, "headers", &v))
		json_object_object_add(o, "headers", json_object_get(v));
	if (json_object_object_get_ex(all, "query", &v))
		json_object_object_add(o, "query", json_object_get(v));
	if (json_object_object_get_ex(all, "params", &v))
		json_object_object_add(o, "params", json_object_get(v));
	ss_res_json(res, strcmp(ss_req_method(req), "POST") == 0 ? 201 : 200, o);
	ss_res_header(res, "X-Plugin", ss_plugin_name(p));
	json_object_put(o);
	return 0;
}

static int hello(ss_plugin *p, const ss_request *req, ss_response *res)
{
	static const char msg[] = "{\"message\":\"Hello from plugin!\"}";

	(void)p;
	(void)req;
	ss_res_header(res, "Content-Type", "application/json");
	return ss_res_body(res, msg, sizeof msg - 1);
}

/* Sleeps ?ms= milliseconds (default 60 s) before answering: a hung handler. */
static int sleepy(ss_plugin *p, const ss_request *req, ss_response *res)
{
	const char *ms = ss_req_query(req, "ms");
	long n = ms ? atol(ms) : 60000;
	struct timespec ts = {n / 1000, (n % 1000) * 1000000L};

	(void)p;
	nanosleep(&ts, NULL);
	ss_res_status(res, 200);
	return 0;
}

/* An answer the daemon must refuse, chosen by :kind. */
static int bad(ss_plugin *p, const ss_request *req, ss_response *res)
{
	const char *kind = ss_req_param(req, "kind");

	(void)p;
	if (strcmp(kind, "length") == 0) {
		ss_res_header(res, "Content-Length", "5");
	} else if (strcmp(kind, "te") == 0) {
		ss_res_header(res, "Transfer-Encoding", "chunked");
	} else if (strcmp(kind, "crlf") == 0) {
		ss_res_header(res, "X-Evil", "a\r\nSet-Cookie: stolen=1");
	} else if (strcmp(kind, "name") == 0) {
		ss_res_header(res, "Bad Name", "x");
	} else if (strcmp(kind, "status") == 0) {
		ss_res_status(res, 700);
	} else if (strcmp(kind, "status-low") == 0) {
		ss_res_status(res, 101);
	} else if (strcmp(kind, "huge") == 0) {
		/* 2 MiB: over the 1 MiB frame, so the host cannot send it. */
		size_t n = (size_t)2 << 20;
		char *big = malloc(n);
		memset(big, 'x', n);
		ss_res_body(res, big, n);
		free(big);
	} else if (strcmp(kind, "fail") == 0) {
		return 1;
	} else if (strcmp(kind, "garbage") == 0) {
		/* Not a frame at all, straight onto the protocol socket. */
		static const char junk[] = "\x00\x00\x00\x05{{{{{";
		if (write(3, junk, sizeof junk - 1) < 0)
			return 1;
	} else if (strcmp(kind, "crash") == 0) {
		abort();
	}
	return 0;
}

/* The status :code with an empty body (204 and the like). */
static int status(ss_plugin *p, const ss_request *req, ss_response *res)
{
	(void)p;
	ss_res_status(res, atoi(ss_req_param(req, "code")));
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The latency below which a share of the samples lies, from a histogram in
 * microseconds (no array of samples to keep and sort).
 */
#define HIST_US 100000
static int64_t percentile_us(const uint32_t *hist, long n, long share_per_100)
{
	long want = (n * share_per_100) / 100, seen = 0;

	for (int64_t us = 0; us <= HIST_US; us++) {
		seen += hist[us];
		if (seen > want)
			return us;
	}
	return HIST_US;
}

/*
 * The storage benchmark from inside a plugin: ?op=set|get&n=N&keys=K runs N
 * calls one after another (keys bench-0 .. bench-K-1, a small JSON object
 * each) and answers {"ops", "seconds", "per_s", "p50_us", "p99_us", "errors"}.
 */
static int kvbench(ss_plugin *p, const ss_request *req, ss_response *res)
{
	const char *op = ss_req_query(req, "op"), *ns = ss_req_query(req, "n");
	const char *ks = ss_req_query(req, "keys");
	long n = ns ? atol(ns) : 1000, keys = ks ? atol(ks) : 1000, errors = 0;
	bool set = op != NULL && strcmp(op, "set") == 0;
	uint32_t *hist;
	int64_t t0, t1;
	json_object *o, *value = json_object_new_object();
	char key[32];

	if (n <= 0 || n > 10000000 || keys <= 0)
		return 1;
	hist = calloc(HIST_US + 1, sizeof *hist);
	json_object_object_add(value, "n", json_object_new_int(0));
	json_object_object_add(value, "text", json_object_new_string("a benchmark value"));
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int64_t s = now_ns();
		int r;
		snprintf(key, sizeof key, "bench-%ld", i % keys);
		if (set) {
			json_object_object_add(value, "n", json_object_new_int64(i));
			r = ss_storage_set(p, key, value);
		} else {
			json_object *v = NULL;
			r = ss_storage_get(p, key, &v);
			json_object_put(v);
		}
		errors += r != SS_OK;
		s = (now_ns() - s) / 1000;
		hist[s < HIST_US ? s : HIST_US]++;
	}
	t1 = now_ns();
	o = json_object_new_object();
	json_object_object_add(o, "ops", json_object_new_int64(n));
	json_object_object_add(o, "seconds", json_object_new_double((double)(t1 - t0) / 1e9));
	json_object_object_add(o, "per_s",
			       json_object_new_double((double)n * 1e9 / (double)(t1 - t0)));
	json_object_object_add(o, "p50_us", json_object_new_int64(percentile_us(hist, n, 50)));
	json_object_object_add(o, "p99_us", json_object_new_int64(percentile_us(hist, n, 99)));
	json_object_object_add(o, "errors", json_object_new_int64(errors));
	if (errors > 0)
		json_object_object_add(o, "last_error", json_object_new_string(ss_error_code(p)));
	ss_res_json(res, 200, o);
	json_object_put(o);
	json_object_put(value);
	free(hist);
	return 0;
}

static const struct {
	const char *method, *path;
	enum ss_route_access access;
	ss_route_fn fn;
} routes[] = {
    {"GET", "/hello", SS_ROUTE_PUBLIC, hello},
    {"GET", "/items/:id", SS_ROUTE_VIEWER, echo},
    {"POST", "/items", SS_ROUTE_VIEWER, echo},
    {"PATCH", "/items/:id", SS_ROUTE_SERVICE, echo},
    {"DELETE", "/items/:id", SS_ROUTE_ADMIN, echo},
    {"GET", "/items/new", SS_ROUTE_PUBLIC, echo},
    {"GET", "/public", SS_ROUTE_PUBLIC, echo},
    {"GET", "/sleep", SS_ROUTE_PUBLIC, sleepy},
    {"GET", "/bad/:kind", SS_ROUTE_PUBLIC, bad},
    {"GET", "/status/:code", SS_ROUTE_PUBLIC, status},
    {"POST", "/kvbench", SS_ROUTE_ADMIN, kvbench},
};

static int on_load(ss_plugin *p)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		int r =
		    ss_route(p, routes[i].method, routes[i].path, routes[i].access, routes[i].fn);
		if (r != SS_OK) {
			ss_log(p, SS_WARN, "ss_route %s %s: %d %s: %s", routes[i].method,
			       routes[i].path, r, ss_error_code(p), ss_error_message(p));
			return 0; /* routed-n loads without routes */
		}
	}
	/* A declaration the daemon refuses: the same method and shape again. */
	int r = ss_route(p, "GET", "/items/:other", SS_ROUTE_VIEWER, echo);
	ss_log(p, SS_INFO, "duplicate route: %d %s: %s", r, ss_error_code(p), ss_error_message(p));
	ss_log(p, SS_INFO, "routes declared");
	return 0;
}

SS_PLUGIN(.name = ROUTED_NAME, .version = "1.0.0", .on_load = on_load);
