/*
 * The API over httpd: routes (route.c), the role rule, and what handlers
 * see of a request (struct api_req) and answer with: JSON in one shape.
 */
#define _GNU_SOURCE
#include "api.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "httpd.h"
#include "json.h"
#include "log.h"
#include "route.h"
#include "xmalloc.h"

#define API_TIMEOUT_MS 30000
/* A plugin route answers with up to PROUTE_HEADERS_MAX (64) headers; ours come on top. */
#define API_REPLY_HEADERS 72

struct api {
	struct httpd *httpd;
	struct router *router;
	size_t max_body;
	api_auth_fn auth;
	void *auth_arg;
	char *subtree; /* a prefix whose paths no route has go to subtree_fn, any method */
	api_handler subtree_fn;
	void *subtree_arg;
};

struct api_req {
	struct api *api;
	struct httpd_conn *conn;
	const struct httpd_request *r;
	enum api_role role;
	char *user; /* the token's name, or NULL */
	struct httpd_header out[API_REPLY_HEADERS];
	size_t nout;
};

const char *api_req_method(const struct api_req *req)
{
	return req->r->method;
}

const char *api_req_path(const struct api_req *req)
{
	return req->r->path;
}

const char *api_req_header(const struct api_req *req, const char *name)
{
	return httpd_header(req->r, name);
}

const char *api_req_user(const struct api_req *req)
{
	return req->user ? req->user : "anonymous";
}

enum api_role api_req_role(const struct api_req *req)
{
	return req->role;
}

void api_reply_header(struct api_req *req, const char *name, const char *value)
{
	if (req->nout == API_REPLY_HEADERS)
		fatal("api_reply_header: more than %d headers", API_REPLY_HEADERS);
	req->out[req->nout++] = (struct httpd_header){xstrdup(name), xstrdup(value)};
}

/* The request is answered: what it held goes. */
static void req_free(struct api_req *req)
{
	for (size_t i = 0; i < req->nout; i++) {
		free(req->out[i].name);
		free(req->out[i].value);
	}
	free(req->user);
	free(req);
}

/* Sends the answer; the request is done and freed. */
static void reply(struct api_req *req, int status, const char *content_type, const void *data,
		  size_t len)
{
	bool cache = false;

	/* API answers are never cached; a handler that says otherwise (static files) wins. */
	for (size_t i = 0; i < req->nout; i++)
		cache |= strcasecmp(req->out[i].name, "Cache-Control") == 0;
	if (!cache)
		api_reply_header(req, "Cache-Control", "no-store");
	api_reply_header(req, "X-Content-Type-Options", "nosniff");
	httpd_respond(req->conn, status, content_type, req->out, req->nout, data, len);
	req_free(req);
}

void api_reply_data(struct api_req *req, int status, const char *content_type, const void *data,
		    size_t len)
{
	reply(req, status, content_type, data, len);
}

void api_reply_json(struct api_req *req, int status, json_object *body)
{
	size_t len = 0;
	const char *s = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
	char *text = xmalloc(len + 1);

	memcpy(text, s, len);
	text[len] = '\n';
	reply(req, status, "application/json", text, len + 1);
	free(text);
	json_object_put(body);
}

void api_reply_error(struct api_req *req, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (status == 503)
		api_reply_header(req, "Retry-After", "5");
	api_reply_json(req, status, httpd_error_body(code, msg));
}

struct api_stream {
	struct httpd_conn *conn;
	api_stream_closed_fn closed;
	void *arg;
};

static void stream_closed(void *arg)
{
	struct api_stream *s = arg;
	api_stream_closed_fn fn = s->closed;
	void *fn_arg = s->arg;

	free(s);
	fn(fn_arg);
}

struct api_stream *api_reply_stream(struct api_req *req, const char *content_type,
				    size_t max_pending, api_stream_closed_fn closed, void *arg)
{
	struct api_stream *s = xcalloc(1, sizeof *s);

	api_reply_header(req, "Cache-Control", "no-store");
	api_reply_header(req, "X-Content-Type-Options", "nosniff");
	/* A proxy that buffers answers (nginx) would hold the events back. */
	api_reply_header(req, "X-Accel-Buffering", "no");
	s->conn = req->conn;
	s->closed = closed;
	s->arg = arg;
	if (httpd_stream_begin(req->conn, 200, content_type, req->out, req->nout, max_pending,
			       stream_closed, s) < 0) {
		free(s);
		s = NULL;
	}
	req_free(req);
	return s;
}

int api_stream_write(struct api_stream *s, const void *data, size_t len)
{
	if (httpd_stream_write(s->conn, data, len) < 0) {
		free(s);
		return -1;
	}
	return 0;
}

void api_stream_close(struct api_stream *s)
{
	httpd_stream_close(s->conn);
	free(s);
}

/* application/json, with parameters or not ("application/json; charset=utf-8"). */
static bool is_json_type(const char *ct)
{
	static const char want[] = "application/json";

	if (ct == NULL || strncasecmp(ct, want, sizeof want - 1) != 0)
		return false;
	ct += sizeof want - 1;
	ct += strspn(ct, " \t");
	return *ct == '\0' || *ct == ';';
}

int api_read_json(struct api_req *req, bool allow_empty, json_object **out)
{
	struct evbuffer *in = req->r->body;
	size_t len = evbuffer_get_length(in), limit = req->api->max_body;
	char err[JSON_ERR_MAX];
	json_object *obj;
	const char *body;

	*out = NULL;
	if (len == 0) {
		if (allow_empty) {
			*out = json_object_new_object();
			return 0;
		}
		api_reply_error(req, 400, "bad_json", "request body is empty: JSON expected");
		return -1;
	}
	if (len > limit) {
		api_reply_error(req, 413, "too_large", "request body over %zu bytes", limit);
		return -1;
	}
	if (!is_json_type(api_req_header(req, "Content-Type"))) {
		api_reply_error(req, 415, "unsupported_media_type",
				"the body must be sent as Content-Type: application/json");
		return -1;
	}
	body = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
	/*
	 * JSON_INPUT_DEPTH, not JSON_MAX_DEPTH: what a body holds is stored in a
	 * row and sent in frames, and must be readable there (json.h).
	 */
	obj = json_read(body, len, JSON_INPUT_DEPTH, err, sizeof err);
	if (obj == NULL && err[0] != '\0') {
		api_reply_error(req, 400, "bad_json", "%s", err);
		return -1;
	}
	*out = obj;
	return 0;
}

char *api_query_param(struct api_req *req, const char *key)
{
	struct evkeyvalq params;
	const char *v;
	char *out = NULL;

	if (req->r->query == NULL)
		return NULL;
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(req->r->query, &params) < 0)
		return NULL;
	v = evhttp_find_header(&params, key);
	if (v != NULL)
		out = xstrdup(v);
	evhttp_clear_headers(&params);
	return out;
}

int api_req_authorize(struct api_req *req, enum api_role need)
{
	struct api *api = req->api;
	const char *name, *why;
	int st = route_authorize(api->auth, api->auth_arg, api_req_header(req, "Authorization"),
				 need, &req->role, &name, &why);

	if (st != 0) {
		if (st == 401)
			api_reply_header(req, "WWW-Authenticate",
					 api_req_header(req, "Authorization")
					     ? "Bearer error=\"invalid_token\""
					     : "Bearer");
		api_reply_error(req, st,
				st == 401   ? "unauthorized"
				: st == 403 ? "forbidden"
					    : "unavailable",
				"%s", why);
		return -1;
	}
	free(req->user);
	req->user = name ? xstrdup(name) : NULL;
	return 0;
}

const char *api_req_query(const struct api_req *req)
{
	return req->r->query;
}

const char *api_req_body(const struct api_req *req, size_t *len)
{
	*len = evbuffer_get_length(req->r->body);
	return *len ? (const char *)evbuffer_pullup(req->r->body, (ev_ssize_t)*len) : "";
}

size_t api_req_header_count(const struct api_req *req)
{
	return req->r->nheaders;
}

void api_req_header_at(const struct api_req *req, size_t i, const char **name, const char **value)
{
	*name = req->r->headers[i].name;
	*value = req->r->headers[i].value;
}

json_object *api_query_object(struct api_req *req)
{
	json_object *o = json_object_new_object();
	struct evkeyvalq params;
	struct evkeyval *kv;

	TAILQ_INIT(&params);
	if (req->r->query == NULL || evhttp_parse_query_str(req->r->query, &params) < 0)
		return o;
	TAILQ_FOREACH(kv, &params, next)
	{
		if (!json_object_object_get_ex(o, kv->key, NULL))
			json_object_object_add(o, kv->key, json_object_new_string(kv->value));
	}
	evhttp_clear_headers(&params);
	return o;
}

void api_subtree(struct api *api, const char *prefix, api_handler fn, void *arg)
{
	free(api->subtree);
	api->subtree = xstrdup(prefix);
	api->subtree_fn = fn;
	api->subtree_arg = arg;
}

/* A complete request from httpd: route, authorize, hand to the handler. */
static void dispatch(struct httpd_conn *conn, const struct httpd_request *r, void *arg)
{
	struct api *api = arg;
	struct api_req *req = xcalloc(1, sizeof *req);
	struct route_match m;
	int st;

	req->api = api;
	req->conn = conn;
	req->r = r;
	st = router_match(api->router, r->method, r->path, &m);
	if (st == 404 && api->subtree != NULL &&
	    strncmp(r->path, api->subtree, strlen(api->subtree)) == 0) {
		/* The handler authorizes itself (api_req_authorize): its routes' roles vary. */
		api->subtree_fn(req, r->path + strlen(api->subtree), api->subtree_arg);
		return;
	}
	if (st == 404) {
		/* The path is printable ASCII (httpd refuses anything else), so it is echoed
		 * safely. */
		api_reply_error(req, 404, "not_found", "no such endpoint: %.200s", r->path);
		return;
	}
	if (st == 405) {
		api_reply_header(req, "Allow", m.allow);
		api_reply_error(req, 405, "method_not_allowed", "%s is not allowed on %.200s",
				r->method, r->path);
		return;
	}
	if (api_req_authorize(req, m.role) < 0)
		return;
	log_debug("api", "%s %s", r->method, r->path);
	m.fn(req, m.rest, m.arg);
}

/* Whether the bus's hold keeps r: its route was marked with api_route_held. */
static bool held(const struct httpd_request *r, void *arg)
{
	const struct api *api = arg;
	struct route_match m;

	return router_match(api->router, r->method, r->path, &m) == 200 && m.held;
}

struct api *api_new(struct event_base *base, const struct api_options *opts, char *err,
		    size_t errlen)
{
	struct api *api = xcalloc(1, sizeof *api);
	struct httpd_options ho = {
	    .listen = opts->listen,
	    .max_body = opts->max_body ? opts->max_body : 1024 * 1024,
	    .timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : API_TIMEOUT_MS,
	    .allow = ROUTE_METHODS,
	    .turn_requests = opts->turn_requests,
	    .hold_max_ms = opts->hold_max_ms,
	    .hold_expired = opts->hold_expired,
	    .hold_arg = opts->hold_arg,
	    .holds = held,
	};

	api->max_body = ho.max_body;
	api->router = router_new();
	api->httpd = httpd_new(base, &ho, dispatch, api, err, errlen);
	if (api->httpd == NULL) {
		api_free(api);
		return NULL;
	}
	return api;
}

int api_port(const struct api *api)
{
	return httpd_port(api->httpd);
}

void api_close_listener(struct api *api)
{
	httpd_close_listener(api->httpd);
}

void api_hold(struct api *api, bool on)
{
	httpd_hold(api->httpd, on);
}

void api_route(struct api *api, const char *method, const char *path, bool prefix,
	       enum api_role role, api_handler fn, void *arg)
{
	router_add(api->router, method, path, prefix, role, fn, arg);
}

void api_route_held(struct api *api, const char *method, const char *path)
{
	router_hold(api->router, method, path);
}

void api_set_auth(struct api *api, api_auth_fn fn, void *arg)
{
	api->auth = fn;
	api->auth_arg = arg;
}

void api_free(struct api *api)
{
	if (api == NULL)
		return;
	httpd_free(api->httpd);
	router_free(api->router);
	free(api->subtree);
	free(api);
}
