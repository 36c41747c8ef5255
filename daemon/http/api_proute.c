#include "api_proute.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "peer.h"
#include "peer_route.h"
#include "proute.h"
#include "supervisor.h"
#include "utf8.h"
#include "xmalloc.h"

#define PREFIX "/api/plugins/"
#define NAME_MAX_LEN 63

struct proute_api {
	struct supervisor *sup;
	struct api_proute_options o;
};

/* A forwarded request waiting for the host's answer. */
struct pending {
	struct api_req *req;
	char plugin[NAME_MAX_LEN + 1];
	int timeout_ms;
};

static const char *const role_names[] = {
    [API_ROLE_VIEWER] = "viewer", [API_ROLE_SERVICE] = "service", [API_ROLE_ADMIN] = "admin"};

static enum api_role api_role_of(enum proute_role r)
{
	switch (r) {
	case PROUTE_PUBLIC:
		return API_ROLE_NONE;
	case PROUTE_VIEWER:
		return API_ROLE_VIEWER;
	case PROUTE_SERVICE:
		return API_ROLE_SERVICE;
	case PROUTE_ADMIN:
		break;
	}
	return API_ROLE_ADMIN;
}

/*
 * The request's headers for the plugin: lower-case names, repeats joined
 * with ", ", without the caller's credentials (Authorization, Cookie) and
 * the framing and hop-by-hop headers, which are the daemon's. NULL when a
 * value is not UTF-8 (it could not travel in a frame).
 */
static json_object *forwarded_headers(struct api_req *req, char *bad, size_t badlen)
{
	json_object *h = json_object_new_object();
	size_t n = api_req_header_count(req);

	for (size_t i = 0; i < n; i++) {
		const char *name, *value;
		char low[257];
		size_t len;
		json_object *old;

		api_req_header_at(req, i, &name, &value);
		len = strlen(name);
		if (len >= sizeof low)
			continue; /* no HTTP token that long is one a plugin needs */
		for (size_t k = 0; k <= len; k++)
			low[k] =
			    (char)((name[k] >= 'A' && name[k] <= 'Z') ? name[k] + 32 : name[k]);
		if (strcmp(low, "authorization") == 0 || strcmp(low, "cookie") == 0 ||
		    http_header_hop_by_hop(low))
			continue;
		if (!utf8_valid((const unsigned char *)value, strlen(value))) {
			snprintf(bad, badlen, "%s", name);
			json_object_put(h);
			return NULL;
		}
		if (json_object_object_get_ex(h, low, &old)) {
			char *joined = xasprintf("%s, %s", json_object_get_string(old), value);
			json_object_object_add(h, low, json_object_new_string(joined));
			free(joined);
		} else {
			json_object_object_add(h, low, json_object_new_string(value));
		}
	}
	return h;
}

/* The host's answer, checked, becomes the caller's (or a 502 that says why). */
static void answered(void *arg, json_object *reply, const char *code)
{
	struct pending *pd = arg;
	struct api_req *req = pd->req;
	json_object *err, *hdrs = NULL, *body = NULL;
	const char *ctype = NULL, *text;
	char why[256];
	int status;
	size_t len;

	if (code != NULL) {
		if (strcmp(code, "timeout") == 0)
			api_reply_error(req, 504, "plugin_timeout",
					"plugin %s did not answer within %d ms", pd->plugin,
					pd->timeout_ms);
		else
			api_reply_error(req, 502, "plugin_lost", "plugin %s ended before answering",
					pd->plugin);
		goto out;
	}
	if ((err = msg_get_obj(reply, "error")) != NULL) {
		const char *ecode = msg_get_str(err, "code"), *emsg = msg_get_str(err, "message");
		bool failed = ecode != NULL && strcmp(ecode, ERR_HANDLER) == 0;
		log_warn(pd->plugin, "route %s %s: %s: %.200s", api_req_method(req),
			 api_req_path(req), ecode ? ecode : "error", emsg ? emsg : "");
		api_reply_error(req, failed ? 500 : 502, failed ? "handler_failed" : "bad_gateway",
				"plugin %s %s", pd->plugin,
				failed ? "failed to handle the request" : "could not answer");
		goto out;
	}
	if (proute_check_answer(reply, &status, why, sizeof why) < 0) {
		log_warn(pd->plugin, "route %s %s: bad answer: %s", api_req_method(req),
			 api_req_path(req), why);
		api_reply_error(req, 502, "bad_gateway",
				"plugin %s gave an answer HTTP cannot carry", pd->plugin);
		goto out;
	}
	json_object_object_get_ex(reply, "headers", &hdrs);
	json_object_object_get_ex(reply, "body", &body);
	text = body ? json_object_get_string(body) : "";
	len = body ? (size_t)json_object_get_string_len(body) : 0;
	if ((status == 204 || status == 304) && len > 0) {
		log_warn(pd->plugin, "route %s %s: bad answer: a %d has no body",
			 api_req_method(req), api_req_path(req), status);
		api_reply_error(req, 502, "bad_gateway",
				"plugin %s gave an answer HTTP cannot carry", pd->plugin);
		goto out;
	}
	if (hdrs != NULL) {
		json_object_object_foreach(hdrs, name, val)
		{
			if (strcasecmp(name, "Content-Type") == 0)
				ctype = json_object_get_string(val);
			else
				api_reply_header(req, name, json_object_get_string(val));
		}
	}
	if (ctype == NULL && len > 0)
		ctype = "text/plain; charset=utf-8";
	api_reply_data(req, status, ctype, text, len);
out:
	free(pd);
}

/* Everything under /api/plugins/ that is not the marketplace's: rest is "<name>/<path>". */
static void h_route(struct api_req *req, const char *rest, void *arg)
{
	struct proute_api *pa = arg;
	const char *slash = strchr(rest, '/'), *path = slash ? slash : "", *body;
	char name[NAME_MAX_LEN + 1], bad[64];
	struct proute_match m = {0};
	struct peer_route_caller caller = {0};
	enum supervisor_state state;
	struct peer *peer;
	struct pending *pd;
	json_object *headers, *msg;
	size_t nlen = slash ? (size_t)(slash - rest) : strlen(rest), blen;
	int st;

	if (nlen == 0 || nlen > NAME_MAX_LEN)
		goto not_found;
	memcpy(name, rest, nlen);
	name[nlen] = '\0';
	if (!name_plugin_valid(name) || supervisor_serving_peer(pa->sup, name, &peer, &state) < 0)
		goto not_found;
	if (peer == NULL) {
		api_reply_error(req, 503, "plugin_unavailable", "plugin %s is %s", name,
				supervisor_state_name(state));
		return;
	}
	st = proutes_match(peer_routes(peer), api_req_method(req), path, &m);
	if (st == 404)
		goto not_found;
	if (st == 405) {
		api_reply_header(req, "Allow", m.allow);
		api_reply_error(req, 405, "method_not_allowed", "%s is not allowed on %.200s",
				api_req_method(req), api_req_path(req));
		return;
	}
	if (st == 400) {
		api_reply_error(req, 400, "bad_request", "a path segment is badly percent-encoded");
		return;
	}
	if (api_req_authorize(req, api_role_of(m.role)) < 0)
		goto out;
	if (m.role != PROUTE_PUBLIC && api_req_role(req) != API_ROLE_NONE) {
		caller.name = api_req_user(req);
		caller.role = role_names[api_req_role(req)];
	}
	body = api_req_body(req, &blen);
	if (blen > pa->o.max_body) {
		api_reply_error(req, 413, "too_large", "request body over %zu bytes",
				pa->o.max_body);
		goto out;
	}
	if (!utf8_valid((const unsigned char *)body, blen) || memchr(body, '\0', blen) != NULL) {
		api_reply_error(req, 415, "unsupported_media_type",
				"a plugin route's body is UTF-8 text without NUL");
		goto out;
	}
	if ((headers = forwarded_headers(req, bad, sizeof bad)) == NULL) {
		api_reply_error(req, 400, "bad_request", "header %s is not UTF-8 text", bad);
		goto out;
	}
	msg = peer_route_message(&m, api_req_method(req), path, api_query_object(req), headers,
				 body, blen, &caller);
	pd = xcalloc(1, sizeof *pd);
	pd->req = req;
	pd->timeout_ms = pa->o.timeout_ms;
	snprintf(pd->plugin, sizeof pd->plugin, "%s", name);
	if (peer_route_send(peer, msg, pa->o.timeout_ms, answered, pd) < 0) {
		free(pd);
		api_reply_error(req, 503, "plugin_busy", "plugin %s has %d requests outstanding",
				name, PEER_ROUTE_WINDOW);
	}
out:
	json_object_put(m.params);
	return;
not_found:
	json_object_put(m.params);
	api_reply_error(req, 404, "not_found", "no such endpoint: %.200s", api_req_path(req));
}

void api_proute_register(struct api *api, struct supervisor *sup,
			 const struct api_proute_options *o)
{
	static struct proute_api pa;

	pa.sup = sup;
	pa.o = *o;
	api_subtree(api, PREFIX, h_route, &pa);
}
