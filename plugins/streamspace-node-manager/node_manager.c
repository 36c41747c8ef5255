/*
 * streamspace-node-manager: the Kubernetes nodes of StreamSpace's cluster,
 * through the daemon's egress: GET /api/v1/nodes and GET/PATCH
 * /api/v1/nodes/{name} (JSON merge patches) at the configured API server,
 * trusting only its CA bundle, with a service account's bearer token. The
 * routes under /api/plugins/streamspace-node-manager/ list, show, label,
 * taint, cordon and uncordon nodes (k8s.c has the rules and the patches).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <streamspace/plugin.h>

#include "k8s.h"

#define URL_MAX 2048

/* An error answer in the daemon's shape: {"error": {"code", "message"}}. */
static int answer_error(ss_response *res, int status, const char *code, const char *msg)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	int r = ss_res_json(res, status, o);
	json_object_put(o);
	return r;
}

/*
 * One call to the API server: method on path ("/api/v1/nodes..."), body a
 * merge patch or NULL. On an answer, *status is its HTTP status and *out
 * its JSON (a Status object for errors), and 0 is returned; -1 when there
 * is no answer (logged, with why in msg). The token is sent, never logged.
 */
static int k8s_call(ss_plugin *p, const char *method, const char *path, json_object *body,
		    int *status, json_object **out, char *msg, size_t msglen)
{
	const char *server = ss_config_str(p, "apiServer", "");
	const char *ca = ss_config_str(p, "caBundle", "");
	char url[URL_MAX], auth[4200];
	size_t n = strlen(server);
	*out = NULL;
	while (n > 0 && server[n - 1] == '/')
		n--;
	snprintf(url, sizeof url, "%.*s%s", (int)n, server, path);
	snprintf(auth, sizeof auth, "Bearer %s", ss_config_str(p, "token", ""));
	json_object *h = json_object_new_object();
	json_object_object_add(h, "Authorization", json_object_new_string(auth));
	json_object_object_add(h, "Accept", json_object_new_string("application/json"));
	if (body)
		json_object_object_add(h, "Content-Type",
				       json_object_new_string("application/merge-patch+json"));
	ss_http_options opt = {.ca_pem = *ca ? ca : NULL,
			       .timeout_ms = ss_config_int(p, "requestTimeoutMs", 10000)};
	ss_http_response r = {0};
	int rc = ss_http_request_opt(
	    p, method, url, h,
	    body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL, &opt, &r);
	json_object_put(h);
	if (rc != SS_OK) {
		snprintf(msg, msglen, "the API server did not answer: %s (%s)", ss_error_code(p),
			 ss_error_message(p));
		ss_log(p, SS_WARN, "%s %s: %s", method, path, msg);
		return -1;
	}
	*status = r.status;
	*out = json_tokener_parse(r.body);
	ss_http_response_free(&r);
	if (!*out) {
		snprintf(msg, msglen, "the API server answered %d without JSON", *status);
		ss_log(p, SS_WARN, "%s %s: %s", method, path, msg);
		return -1;
	}
	return 0;
}

/* Answers an API server's error: its status, its Status object's reason and message. */
static int answer_k8s_error(ss_response *res, int status, json_object *st)
{
	json_object *v;
	const char *reason = json_object_object_get_ex(st, "reason", &v) ? json_object_get_string(v)
									 : "KubernetesError";
	const char *message = json_object_object_get_ex(st, "message", &v)
				  ? json_object_get_string(v)
				  : "the API server refused the request";
	/* Our caller's problem (404, 409, 422) keeps its status; the rest is a bad gateway. */
	int out = status == 404 || status == 409 || status == 422 ? status : 502;
	return answer_error(res, out, reason, message);
}

/* GETs one node into *node; answers the caller itself and returns -1 when it cannot. */
static int fetch_node(ss_plugin *p, const char *name, ss_response *res, json_object **node)
{
	char path[320], msg[512];
	int status;
	*node = NULL;
	if (!k8s_name_valid(name)) {
		answer_error(res, 400, "bad_request", "not a node name (DNS-1123 subdomain)");
		return -1;
	}
	snprintf(path, sizeof path, "/api/v1/nodes/%s", name);
	if (k8s_call(p, "GET", path, NULL, &status, node, msg, sizeof msg) != 0) {
		answer_error(res, 502, "kubernetes_unreachable", msg);
		return -1;
	}
	if (status != 200) {
		answer_k8s_error(res, status, *node);
		json_object_put(*node);
		*node = NULL;
		return -1;
	}
	return 0;
}

/* PATCHes node name with patch (taken) and answers the updated node's summary. */
static int patch_node(ss_plugin *p, const char *name, json_object *patch, ss_response *res,
		      const char *what)
{
	char path[320], msg[512];
	int status;
	json_object *node = NULL;
	snprintf(path, sizeof path, "/api/v1/nodes/%s", name);
	int rc = k8s_call(p, "PATCH", path, patch, &status, &node, msg, sizeof msg);
	json_object_put(patch);
	if (rc != 0)
		return answer_error(res, 502, "kubernetes_unreachable", msg);
	if (status != 200) {
		answer_k8s_error(res, status, node);
	} else {
		json_object *s = k8s_node_summary(node);
		ss_log(p, SS_INFO, "node %s: %s", name, what);
		ss_res_json(res, 200, s);
		json_object_put(s);
	}
	json_object_put(node);
	return 0;
}

/* GET /nodes and GET /nodes/stats: the list, summarised or totalled. */
static int list_nodes(ss_plugin *p, ss_response *res, bool stats)
{
	char msg[512];
	int status;
	json_object *list = NULL;
	if (k8s_call(p, "GET", "/api/v1/nodes", NULL, &status, &list, msg, sizeof msg) != 0)
		return answer_error(res, 502, "kubernetes_unreachable", msg);
	if (status != 200) {
		answer_k8s_error(res, status, list);
		json_object_put(list);
		return 0;
	}
	json_object *out, *items;
	if (stats) {
		out = k8s_stats(list);
	} else {
		json_object *arr = json_object_new_array();
		out = json_object_new_object();
		if (json_object_object_get_ex(list, "items", &items))
			for (size_t i = 0; i < json_object_array_length(items); i++)
				json_object_array_add(
				    arr, k8s_node_summary(json_object_array_get_idx(items, i)));
		json_object_object_add(out, "nodes", arr);
	}
	ss_res_json(res, 200, out);
	json_object_put(out);
	json_object_put(list);
	return 0;
}

static int on_list(ss_plugin *p, const ss_request *req, ss_response *res)
{
	(void)req;
	return list_nodes(p, res, false);
}

static int on_stats(ss_plugin *p, const ss_request *req, ss_response *res)
{
	(void)req;
	return list_nodes(p, res, true);
}

static int on_get(ss_plugin *p, const ss_request *req, ss_response *res)
{
	json_object *node;
	if (fetch_node(p, ss_req_param(req, "name"), res, &node) == 0) {
		json_object *s = k8s_node_summary(node);
		ss_res_json(res, 200, s);
		json_object_put(s);
		json_object_put(node);
	}
	return 0;
}

/* A string member of the request's JSON body, or NULL. */
static const char *body_str(const ss_request *req, const char *key)
{
	json_object *b = ss_req_json(req), *v;
	return json_object_object_get_ex(b, key, &v) && json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}

/* PUT /nodes/:name/labels {"key", "value"}: sets one label. */
static int on_label(ss_plugin *p, const ss_request *req, ss_response *res)
{
	const char *name = ss_req_param(req, "name"), *key = body_str(req, "key");
	const char *value = body_str(req, "value");
	char what[400];
	if (!k8s_name_valid(name))
		return answer_error(res, 400, "bad_request",
				    "not a node name (DNS-1123 subdomain)");
	if (!k8s_key_valid(key) || !k8s_value_valid(value ? value : ""))
		return answer_error(res, 400, "bad_request",
				    "the body is {\"key\", \"value\"}: a label key ([prefix/]name) "
				    "and a value of at most 63 characters");
	snprintf(what, sizeof what, "label %s set", key);
	return patch_node(p, name, k8s_patch_label(key, value ? value : ""), res, what);
}

/* DELETE /nodes/:name/labels/:key (or ?key= for a key with a '/'): removes a label. */
static int on_unlabel(ss_plugin *p, const ss_request *req, ss_response *res)
{
	const char *name = ss_req_param(req, "name"), *key = ss_req_param(req, "key");
	char what[400];
	if (key && strcmp(key, "-") == 0)
		key = ss_req_query(req, "key");
	if (!k8s_name_valid(name) || !k8s_key_valid(key))
		return answer_error(res, 400, "bad_request", "not a node name or a label key");
	snprintf(what, sizeof what, "label %s removed", key);
	return patch_node(p, name, k8s_patch_label(key, NULL), res, what);
}

/* POST /nodes/:name/taints {"key","value","effect"} and DELETE /nodes/:name/taints/:key. */
static int taint(ss_plugin *p, const ss_request *req, ss_response *res, bool add)
{
	const char *name = ss_req_param(req, "name");
	const char *key = add ? body_str(req, "key") : ss_req_param(req, "key");
	const char *value = add ? body_str(req, "value") : NULL;
	const char *effect = add ? body_str(req, "effect") : NULL;
	char what[400];
	bool changed;
	json_object *node;
	if (!add && key && strcmp(key, "-") == 0)
		key = ss_req_query(req, "key");
	if (!k8s_key_valid(key) ||
	    (add && (!k8s_effect_valid(effect) || !k8s_value_valid(value ? value : ""))))
		return answer_error(res, 400, "bad_request",
				    "a taint is {\"key\", \"value\", \"effect\"}: a key, a value "
				    "of at most 63 characters, NoSchedule, PreferNoSchedule or "
				    "NoExecute");
	if (fetch_node(p, name, res, &node) != 0)
		return 0;
	json_object *patch = k8s_patch_taints(node, key, value, effect, add, &changed);
	json_object_put(node);
	if (!changed) {
		json_object_put(patch);
		return answer_error(res, 404, "NotFound", "the node has no taint of that key");
	}
	snprintf(what, sizeof what, "taint %s %s", key, add ? "set" : "removed");
	return patch_node(p, name, patch, res, what);
}

static int on_taint(ss_plugin *p, const ss_request *req, ss_response *res)
{
	return taint(p, req, res, true);
}

static int on_untaint(ss_plugin *p, const ss_request *req, ss_response *res)
{
	return taint(p, req, res, false);
}

static int cordon(ss_plugin *p, const ss_request *req, ss_response *res, bool on)
{
	const char *name = ss_req_param(req, "name");
	if (!k8s_name_valid(name))
		return answer_error(res, 400, "bad_request",
				    "not a node name (DNS-1123 subdomain)");
	return patch_node(p, name, k8s_patch_cordon(on), res, on ? "cordoned" : "uncordoned");
}

static int on_cordon(ss_plugin *p, const ss_request *req, ss_response *res)
{
	return cordon(p, req, res, true);
}

static int on_uncordon(ss_plugin *p, const ss_request *req, ss_response *res)
{
	return cordon(p, req, res, false);
}

static int on_load(ss_plugin *p)
{
	static const struct {
		const char *method, *path;
		ss_route_fn fn;
	} routes[] = {
	    {"GET", "/nodes", on_list},
	    {"GET", "/nodes/stats", on_stats},
	    {"GET", "/nodes/:name", on_get},
	    {"PUT", "/nodes/:name/labels", on_label},
	    {"DELETE", "/nodes/:name/labels/:key", on_unlabel},
	    {"POST", "/nodes/:name/taints", on_taint},
	    {"DELETE", "/nodes/:name/taints/:key", on_untaint},
	    {"POST", "/nodes/:name/cordon", on_cordon},
	    {"POST", "/nodes/:name/uncordon", on_uncordon},
	};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (ss_route(p, routes[i].method, routes[i].path, SS_ROUTE_ADMIN, routes[i].fn) !=
		    SS_OK) {
			ss_log(p, SS_ERROR, "%s %s: %s", routes[i].method, routes[i].path,
			       ss_error_message(p));
			return -1;
		}
	ss_log(p, SS_INFO, "serving the nodes of %s", ss_config_str(p, "apiServer", "?"));
	return 0;
}

/* The API server, CA and token are read at each request: a change needs nothing redone. */
static int on_config(ss_plugin *p, json_object *config)
{
	(void)config;
	ss_log(p, SS_INFO, "configuration changed");
	return 0;
}

SS_PLUGIN(.name = "streamspace-node-manager", .version = "1.0.0", .on_load = on_load,
	  .on_config = on_config);
