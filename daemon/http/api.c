#define _GNU_SOURCE
#include "api.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "json.h"
#include "log.h"
#include "xmalloc.h"

#define API_MAX_HEADERS 16384
#define API_TIMEOUT_S 30
#define API_ROUTES_MAX 128

struct route {
	enum evhttp_cmd_type method;
	char *path;
	size_t len;
	bool prefix;
	enum api_role role;
	api_handler fn;
	void *arg;
};

struct api {
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct api_options o;
	int port;
	struct route routes[API_ROUTES_MAX];
	size_t nroutes;
	api_auth_fn auth;
	void *auth_arg;
};

struct api_req {
	struct api *api;
	struct evhttp_request *ev;
	const char *method;
	const char *path;
	enum api_role role;
	char *user; /* the token's name, or NULL */
};

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	default:
		return "OTHER";
	}
}

static enum evhttp_cmd_type method_parse(const char *m)
{
	if (strcmp(m, "POST") == 0)
		return EVHTTP_REQ_POST;
	if (strcmp(m, "PUT") == 0)
		return EVHTTP_REQ_PUT;
	if (strcmp(m, "DELETE") == 0)
		return EVHTTP_REQ_DELETE;
	if (strcmp(m, "GET") == 0)
		return EVHTTP_REQ_GET;
	fatal("api_route: unknown method %s", m);
}

const char *api_req_method(const struct api_req *req)
{
	return req->method;
}

const char *api_req_path(const struct api_req *req)
{
	return req->path;
}

const char *api_req_header(const struct api_req *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
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
	evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value);
}

static void req_free(struct api_req *req)
{
	free(req->user);
	free(req);
}

/* Sends the answer; the request is done and freed. */
static void reply(struct api_req *req, int status, const char *content_type, const void *data,
		  size_t len, bool newline)
{
	struct evbuffer *buf = evbuffer_new();

	evbuffer_add(buf, data, len);
	if (newline)
		evbuffer_add(buf, "\n", 1);
	api_reply_header(req, "Content-Type", content_type);
	/* API answers are never cached; a handler that says otherwise (static files) wins. */
	if (evhttp_find_header(evhttp_request_get_output_headers(req->ev), "Cache-Control") == NULL)
		api_reply_header(req, "Cache-Control", "no-store");
	api_reply_header(req, "X-Content-Type-Options", "nosniff");
	/* RFC 9110's phrase, so our 413 is told apart from libevent's own (see below). */
	evhttp_send_reply(req->ev, status, status == 413 ? "Content Too Large" : NULL, buf);
	evbuffer_free(buf);
	req_free(req);
}

void api_reply_data(struct api_req *req, int status, const char *content_type, const void *data,
		    size_t len)
{
	reply(req, status, content_type, data, len, false);
}

void api_reply_json(struct api_req *req, int status, json_object *body)
{
	size_t len = 0;
	const char *s = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);

	reply(req, status, "application/json", s, len, true);
	json_object_put(body);
}

void api_reply_error(struct api_req *req, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_object *body = json_object_new_object(), *e = json_object_new_object();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(body, "error", e);
	if (status == 503)
		api_reply_header(req, "Retry-After", "5");
	api_reply_json(req, status, body);
}

int api_read_json(struct api_req *req, bool allow_empty, json_object **out)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);
	size_t len = evbuffer_get_length(in), limit = req->api->o.max_body;
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
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req->ev);
	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq params;
	const char *v;
	char *out = NULL;

	if (q == NULL)
		return NULL;
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(q, &params) < 0)
		return NULL;
	v = evhttp_find_header(&params, key);
	if (v != NULL)
		out = xstrdup(v);
	evhttp_clear_headers(&params);
	return out;
}

/* The bearer token of the request, or NULL. */
static const char *bearer(struct api_req *req)
{
	const char *h = api_req_header(req, "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

/* 0 when the request may go on (req->role and ->user set); otherwise it has been answered. */
static int authorize(struct api *api, struct api_req *req, enum api_role need)
{
	const char *token, *name = NULL;
	int role;

	if (need == API_ROLE_NONE || api->auth == NULL)
		return 0;
	token = bearer(req);
	if (token == NULL) {
		api_reply_header(req, "WWW-Authenticate", "Bearer");
		api_reply_error(req, 401, "unauthorized", "a bearer token is required");
		return -1;
	}
	role = api->auth(token, api->auth_arg, &name);
	if (role < 0) {
		api_reply_error(req, 503, "unavailable",
				"cannot check the token now (database unavailable)");
		return -1;
	}
	if (role == API_ROLE_NONE) {
		api_reply_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
		api_reply_error(req, 401, "unauthorized", "invalid or revoked token");
		return -1;
	}
	/* service may post events; admin may do everything a service or viewer may. */
	if ((enum api_role)role < need || (need == API_ROLE_ADMIN && role != API_ROLE_ADMIN)) {
		api_reply_error(req, 403, "forbidden", "this token's role may not do that");
		return -1;
	}
	req->role = (enum api_role)role;
	req->user = name ? xstrdup(name) : NULL;
	return 0;
}

static bool route_matches(const struct route *r, const char *path, const char **rest)
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

static void dispatch(struct evhttp_request *ev, void *arg)
{
	struct api *api = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type m = evhttp_request_get_command(ev);
	struct api_req *req = xcalloc(1, sizeof *req);
	bool path_known = false;
	const char *rest = NULL;

	req->api = api;
	req->ev = ev;
	req->method = method_name(m);
	req->path = path ? path : "";
	if (path == NULL || path[0] != '/') {
		api_reply_error(req, 400, "bad_request", "malformed request path");
		return;
	}
	if (m == EVHTTP_REQ_HEAD)
		m = EVHTTP_REQ_GET;
	for (size_t i = api->nroutes; i-- > 0;) {
		struct route *r = &api->routes[i];
		if (!route_matches(r, path, &rest))
			continue;
		path_known = true;
		if (r->method != m)
			continue;
		if (authorize(api, req, r->role) < 0)
			return;
		log_debug("api", "%s %s", method_name(m), path);
		r->fn(req, rest, r->arg);
		return;
	}
	if (path_known)
		api_reply_error(req, 405, "method_not_allowed", "%s is not allowed on %s",
				method_name(m), path);
	else
		api_reply_error(req, 404, "not_found", "no such endpoint: %s", path);
}

/*
 * libevent refuses a body over its limit (by Content-Length, or as chunks
 * arrive) before any handler runs, and answers with a fixed HTML page that
 * no hook in libevent 2.1 lets us replace. Every connection's output buffer
 * is watched instead: when that exact page has just been queued, it is
 * swapped for the same refusal in our JSON shape, before a byte is written.
 * Only libevent's page has this status line (our own 413 says "Content Too
 * Large"); anything else passes untouched.
 */
static const char lib413_status[] = " 413 Request Entity Too Large\r\n";
static const char lib413_tail[] = "</BODY></HTML>\n";

static void rewrite_lib413(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	static bool busy;
	struct api *api = arg;
	size_t len = evbuffer_get_length(out), tail = sizeof lib413_tail - 1;
	char end[sizeof lib413_tail];
	struct evbuffer_ptr at, line;
	char *keep = NULL, *body;
	size_t head;

	if (busy || info->n_added == 0 || len < tail)
		return;
	evbuffer_ptr_set(out, &at, len - tail, EVBUFFER_PTR_SET);
	if (evbuffer_copyout_from(out, &at, end, tail) != (ev_ssize_t)tail ||
	    memcmp(end, lib413_tail, tail) != 0)
		return;
	at = evbuffer_search(out, lib413_status, sizeof lib413_status - 1, NULL);
	if (at.pos < 0 || at.pos < 8)
		return;
	/* Back to the start of the status line ("HTTP/1.x"). */
	evbuffer_ptr_set(out, &line, (size_t)at.pos - 8, EVBUFFER_PTR_SET);
	head = (size_t)line.pos;
	busy = true;
	if (head > 0) {
		keep = xmalloc(head);
		evbuffer_copyout(out, keep, head);
	}
	evbuffer_drain(out, len);
	if (keep != NULL)
		evbuffer_add(out, keep, head);
	body = xasprintf("{\"error\":{\"code\":\"too_large\",\"message\":\"request body over %zu "
			 "bytes\"}}\n",
			 api->o.max_body);
	evbuffer_add_printf(out,
			    "HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\n"
			    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
			    "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
			    strlen(body), body);
	busy = false;
	free(body);
	free(keep);
}

/* Every server connection's bufferevent, with the 413 watch on its output. */
static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev != NULL)
		evbuffer_add_cb(bufferevent_get_output(bev), rewrite_lib413, arg);
	return bev;
}

struct api *api_new(struct event_base *base, const struct api_options *opts, char *err,
		    size_t errlen)
{
	struct api *api = xcalloc(1, sizeof *api);
	char host[256];
	const char *colon;
	char *end;
	long port;
	struct sockaddr_storage ss = {0};
	socklen_t sl = sizeof ss;

	api->o = *opts;
	if (api->o.max_body == 0)
		api->o.max_body = 1024 * 1024;
	colon = opts->listen ? strrchr(opts->listen, ':') : NULL;
	if (colon == NULL || (size_t)(colon - opts->listen) >= sizeof host) {
		snprintf(err, errlen, "--listen wants HOST:PORT, got \"%s\"",
			 opts->listen ? opts->listen : "");
		goto fail;
	}
	memcpy(host, opts->listen, (size_t)(colon - opts->listen));
	host[colon - opts->listen] = '\0';
	/* [::1]:8080 */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535 || colon[1] == '\0') {
		snprintf(err, errlen, "invalid port in --listen \"%s\"", opts->listen);
		goto fail;
	}
	api->http = evhttp_new(base);
	if (api->http == NULL) {
		snprintf(err, errlen, "evhttp_new failed");
		goto fail;
	}
	/*
	 * Over the limit, libevent refuses the body as it arrives (rewrite_lib413).
	 * Lingering close reads and discards the rest before answering, so a
	 * client still sending gets the 413 instead of a reset; nothing is kept.
	 */
	evhttp_set_max_body_size(api->http, (ev_ssize_t)api->o.max_body);
	evhttp_set_flags(api->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_bevcb(api->http, make_bev, api);
	evhttp_set_max_headers_size(api->http, API_MAX_HEADERS);
	evhttp_set_timeout(api->http, API_TIMEOUT_S);
	evhttp_set_allowed_methods(api->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						  EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(api->http, dispatch, api);
	api->sock = evhttp_bind_socket_with_handle(api->http, host, (ev_uint16_t)port);
	if (api->sock == NULL) {
		snprintf(err, errlen, "cannot listen on %s", opts->listen);
		goto fail;
	}
	if (getsockname(evhttp_bound_socket_get_fd(api->sock), (struct sockaddr *)&ss, &sl) == 0)
		api->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							   : ((struct sockaddr_in *)&ss)->sin_port);
	return api;
fail:
	api_free(api);
	return NULL;
}

int api_port(const struct api *api)
{
	return api->port;
}

void api_close_listener(struct api *api)
{
	if (api->sock != NULL) {
		evhttp_del_accept_socket(api->http, api->sock);
		api->sock = NULL;
	}
}

void api_route(struct api *api, const char *method, const char *path, bool prefix,
	       enum api_role role, api_handler fn, void *arg)
{
	struct route *r;

	if (api->nroutes == API_ROUTES_MAX)
		fatal("api_route: more than %d routes", API_ROUTES_MAX);
	if (prefix && path[strlen(path) - 1] != '/')
		fatal("api_route: prefix route %s must end with /", path);
	r = &api->routes[api->nroutes++];
	r->method = method_parse(method);
	r->path = xstrdup(path);
	r->len = strlen(path);
	r->prefix = prefix;
	r->role = role;
	r->fn = fn;
	r->arg = arg;
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
	if (api->http != NULL)
		evhttp_free(api->http);
	for (size_t i = 0; i < api->nroutes; i++)
		free(api->routes[i].path);
	free(api);
}
