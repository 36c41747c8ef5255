/*
 * HTTP routes (plugin.h, "HTTP routes"; PROTOCOL.md, "Routes"): ss_route is
 * a route.add call, and the daemon's index for the route is where its
 * handler goes in p->routes; an http.request names that index, and the
 * handler's answer goes back as the reply. The daemon owns every HTTP rule
 * (paths, tokens, roles, header checks, sizes): the host checks only what it
 * must to put a frame on the wire (UTF-8), so no rule lives in two places.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "call.h"
#include "diag.h"
#include "msg.h"
#include "utf8.h"
#include "xmalloc.h"

#define HEADER_NAME_MAX 256

struct ss_request {
	json_object *m; /* the http.request (borrowed) */
	json_object *params, *query, *headers;
	const char *body;
	size_t body_len;
	const char *caller, *role;
	json_object *json; /* the body read as JSON, on first use */
	bool json_tried;
};

struct ss_response {
	int status;
	json_object *headers; /* name -> value, names as the plugin wrote them */
	char *body;
	size_t body_len;
};

static const char *const access_roles[] = {
    [SS_ROUTE_VIEWER] = "viewer", [SS_ROUTE_SERVICE] = "service", [SS_ROUTE_ADMIN] = "admin"};

static bool wire_str(const char *s)
{
	return s != NULL && utf8_valid((const unsigned char *)s, strlen(s));
}

int ss_route(ss_plugin *p, const char *method, const char *path, enum ss_route_access access,
	     ss_route_fn fn)
{
	json_object *m, *reply = NULL;
	int64_t index;
	int r;

	if (p == NULL || !sdk_is_plugin(p))
		return SS_ERR_INVALID;
	if (!wire_str(method) || !wire_str(path) || fn == NULL || (int)access < SS_ROUTE_PUBLIC ||
	    access > SS_ROUTE_ADMIN)
		return call_fail(p, SS_ERR_INVALID, ERR_BAD_REQUEST,
				 "route.add: method and path are UTF-8 text, fn is set, access "
				 "is an ss_route_access");
	if (p->protocol < 3)
		return call_fail(p, SS_ERR_UNIMPLEMENTED, ERR_UNIMPLEMENTED,
				 "the daemon speaks protocol %d, routes need 3", p->protocol);
	m = msg_new(MSG_ROUTE_ADD);
	msg_add_str(m, "method", method);
	msg_add_str(m, "path", path);
	msg_add_bool(m, "public", access == SS_ROUTE_PUBLIC);
	if (access != SS_ROUTE_PUBLIC)
		msg_add_str(m, "role", access_roles[access]);
	r = call_request(p, m, &reply);
	if (r != SS_OK)
		return r;
	/* The daemon numbers routes in the order it accepted them: ours must agree. */
	if (!msg_get_int(reply, "route", &index) || index != (int64_t)p->n_routes)
		host_protocol_error(ERR_BAD_MESSAGE, "route.add reply without the next route index",
				    reply);
	json_object_put(reply);
	if (p->n_routes == p->cap_routes) {
		p->cap_routes = p->cap_routes ? p->cap_routes * 2 : 8;
		p->routes = xrealloc(p->routes, p->cap_routes * sizeof *p->routes);
	}
	p->routes[p->n_routes++] = fn;
	return SS_OK;
}

/* ---- the request ---- */

const char *ss_req_method(const ss_request *req)
{
	return req ? msg_get_str(req->m, "method") : NULL;
}

const char *ss_req_path(const ss_request *req)
{
	return req ? msg_get_str(req->m, "path") : NULL;
}

const char *ss_req_param(const ss_request *req, const char *name)
{
	return req && name ? msg_get_str(req->params, name) : NULL;
}

const char *ss_req_query(const ss_request *req, const char *name)
{
	return req && name ? msg_get_str(req->query, name) : NULL;
}

/* The daemon sends header names in lower case. */
const char *ss_req_header(const ss_request *req, const char *name)
{
	char low[HEADER_NAME_MAX + 1];
	size_t n;

	if (req == NULL || name == NULL || (n = strlen(name)) > HEADER_NAME_MAX)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	return msg_get_str(req->headers, low);
}

const char *ss_req_body(const ss_request *req, size_t *len)
{
	if (len != NULL)
		*len = req ? req->body_len : 0;
	return req ? req->body : "";
}

json_object *ss_req_json(const ss_request *req)
{
	/* The cache is ours, not the plugin's: the request is const to it only. */
	struct ss_request *r = (struct ss_request *)req;

	if (r == NULL)
		return NULL;
	if (!r->json_tried) {
		r->json_tried = true;
		if (r->body_len > 0)
			r->json = json_tokener_parse(r->body);
	}
	return r->json;
}

const char *ss_req_caller(const ss_request *req)
{
	return req ? req->caller : NULL;
}

const char *ss_req_role(const ss_request *req)
{
	return req ? req->role : NULL;
}

json_object *ss_req_object(const ss_request *req)
{
	return req ? req->m : NULL;
}

/* ---- the response ---- */

void ss_res_status(ss_response *res, int status)
{
	if (res != NULL)
		res->status = status;
}

int ss_res_header(ss_response *res, const char *name, const char *value)
{
	if (res == NULL || !wire_str(name) || !wire_str(value))
		return SS_ERR_INVALID;
	/* One of each name, whatever its case: the last set wins. */
	json_object_object_foreach(res->headers, k, v)
	{
		(void)v;
		if (strcasecmp(k, name) == 0) {
			json_object_object_del(res->headers, k);
			break;
		}
	}
	json_object_object_add(res->headers, name, json_object_new_string(value));
	return SS_OK;
}

int ss_res_body(ss_response *res, const char *body, size_t len)
{
	if (res == NULL || (body == NULL && len > 0) ||
	    (len > 0 && !utf8_valid((const unsigned char *)body, len)) ||
	    (len > 0 && memchr(body, '\0', len) != NULL))
		return SS_ERR_INVALID;
	free(res->body);
	res->body = xmalloc(len + 1);
	if (len > 0)
		memcpy(res->body, body, len);
	res->body[len] = '\0';
	res->body_len = len;
	return SS_OK;
}

int ss_res_json(ss_response *res, int status, json_object *json)
{
	size_t len = 0;
	const char *s;

	if (res == NULL)
		return SS_ERR_INVALID;
	s = json_object_to_json_string_length(json, JSON_C_TO_STRING_PLAIN, &len);
	if (ss_res_body(res, s, len) != SS_OK)
		return SS_ERR_INVALID;
	res->status = status;
	return ss_res_header(res, "Content-Type", "application/json");
}

/* ---- serving ---- */

static json_object *obj_or_empty(json_object *m, const char *key)
{
	json_object *o = msg_get_obj(m, key);
	if (o == NULL && json_object_object_get_ex(m, key, NULL))
		host_protocol_error(ERR_BAD_MESSAGE, key, m);
	return o;
}

/* Sends reply, or, when it does not fit a frame, says so instead (the caller's 502). */
static void send_answer(struct ss_plugin *p, int64_t id, json_object *reply)
{
	if (host_send(p, reply) < 0) {
		json_object *err =
		    msg_reply_error(id, ERR_TOO_LARGE, "the answer is over max_frame");
		diag("route answer over max_frame (%zu bytes): not sent", channel_max(p->ch));
		if (host_send(p, err) < 0)
			die(HOST_EXIT_INTERNAL, "error reply over max_frame");
		json_object_put(err);
	}
	json_object_put(reply);
}

void route_serve(struct ss_plugin *p, json_object *m)
{
	struct ss_request req = {.m = m};
	struct ss_response res = {.status = 200};
	json_object *caller, *reply;
	int64_t id, index;
	int r;

	if (!msg_get_int(m, "id", &id))
		host_protocol_error(ERR_BAD_MESSAGE, "id", m);
	if (!msg_get_int(m, "route", &index) || msg_get_str(m, "method") == NULL ||
	    msg_get_str(m, "path") == NULL)
		host_protocol_error(ERR_BAD_MESSAGE, "route, method or path", m);
	if (index < 0 || (uint64_t)index >= p->n_routes) {
		send_answer(p, id, msg_reply_error(id, ERR_BAD_MESSAGE, "no route of that index"));
		return;
	}
	req.params = obj_or_empty(m, "params");
	req.query = obj_or_empty(m, "query");
	req.headers = obj_or_empty(m, "headers");
	req.body = msg_get_str(m, "body");
	if (req.body == NULL)
		req.body = "";
	req.body_len = strlen(req.body);
	caller = msg_get_obj(m, "caller");
	req.caller = msg_get_str(caller, "name");
	req.role = msg_get_str(caller, "role");
	res.headers = json_object_new_object();

	r = p->routes[index](p, &req, &res);
	json_object_put(req.json);
	if (r != 0) {
		reply = msg_reply_error(id, ERR_HANDLER, "the route's handler failed");
	} else {
		reply = msg_reply_ok(id);
		msg_add_int(reply, "status", res.status);
		json_object_object_add(reply, "headers", json_object_get(res.headers));
		msg_add_str(reply, "body", res.body ? res.body : "");
	}
	json_object_put(res.headers);
	free(res.body);
	send_answer(p, id, reply);
}
