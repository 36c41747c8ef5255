/*
 * streamspace-node-manager: the Kubernetes nodes of StreamSpace's cluster,
 * through the daemon's egress: GET /api/v1/nodes and GET/PATCH
 * /api/v1/nodes/{name} (JSON merge patches) at the configured API server,
 * trusting only its CA bundle, with a service account's bearer token. The
 * routes under /api/plugins/streamspace-node-manager/ list, show, label,
 * taint, cordon and uncordon nodes (k8s.c has the rules and the patches).
 * A health job every healthCheckInterval seconds announces a node whose
 * Ready condition turns away from True (node-not-ready) and back (node-ready).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <streamspace/plugin.h>

#include "../common/answer.h"

#include "k8s.h"

#define URL_MAX 2048

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

/* Emits plugin.streamspace-node-manager.<what> for a node's Ready condition. */
static void announce(ss_plugin *p, const char *what, const char *name, const char *ready,
		     json_object *cond)
{
	json_object *d = json_object_new_object(), *v;
	json_object_object_add(d, "node", json_object_new_string(name));
	json_object_object_add(d, "ready", json_object_new_string(ready));
	for (const char *k = "reason\0message\0lastTransitionTime\0"; *k; k += strlen(k) + 1)
		if (json_object_object_get_ex(cond, k, &v))
			json_object_object_add(d, k, json_object_get(v));
	if (ss_emit(p, what, d) != SS_OK)
		ss_log(p, SS_WARN, "%s of %s not emitted: %s", what, name, ss_error_code(p));
	json_object_put(d);
}

/*
 * The health job: each node's Ready condition against the one it had at the
 * last run (kept in storage as ready/<name>, so a restart does not announce
 * again); a node first seen not ready is announced too.
 */
static int on_health(ss_plugin *p, const char *job)
{
	char msg[512], key[300];
	int status, bad = 0;
	json_object *list = NULL, *items;
	if (k8s_call(p, "GET", "/api/v1/nodes", NULL, &status, &list, msg, sizeof msg) != 0)
		return -1;
	if (status != 200) {
		ss_log(p, SS_WARN, "%s: the API server answered %d", job, status);
		json_object_put(list);
		return -1;
	}
	json_object_object_get_ex(list, "items", &items);
	size_t n =
	    json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *node = json_object_array_get_idx(items, i), *meta, *nm, *prev = NULL;
		if (!json_object_object_get_ex(node, "metadata", &meta) ||
		    !json_object_object_get_ex(meta, "name", &nm) ||
		    !k8s_name_valid(json_object_get_string(nm)))
			continue;
		const char *name = json_object_get_string(nm), *ready = k8s_ready(node);
		bad += strcmp(ready, "True") != 0;
		snprintf(key, sizeof key, "ready/%s", name);
		int r = ss_storage_get(p, key, &prev);
		if (r != SS_OK && r != SS_ERR_NOT_FOUND) {
			ss_log(p, SS_ERROR, "%s: storage: %s", job, ss_error_code(p));
			json_object_put(list);
			return -1;
		}
		const char *was = prev ? json_object_get_string(prev) : NULL;
		bool was_ready = !was || strcmp(was, "True") == 0;
		if (!was || strcmp(was, ready) != 0) {
			json_object *cond = k8s_ready_condition(node), *v;
			const char *why = json_object_object_get_ex(cond, "reason", &v)
					      ? json_object_get_string(v)
					      : "no Ready condition";
			if (was_ready && strcmp(ready, "True") != 0) {
				ss_log(p, SS_WARN, "%s: node %s not ready (%s: %s)", job, name,
				       ready, why);
				if (ss_config_bool(p, "alertOnNodeFailure", 1))
					announce(p, "node-not-ready", name, ready, cond);
			} else if (!was_ready && strcmp(ready, "True") == 0) {
				ss_log(p, SS_INFO, "%s: node %s ready again", job, name);
				announce(p, "node-ready", name, ready, cond);
			}
			json_object *now = json_object_new_string(ready);
			r = ss_storage_set(p, key, now);
			json_object_put(now);
		}
		json_object_put(prev);
		if (r != SS_OK && r != SS_ERR_NOT_FOUND) {
			json_object_put(list);
			return -1;
		}
	}
	ss_log(p, SS_INFO, "%s: %zu nodes, %d not ready", job, n, bad);
	json_object_put(list);
	return 0;
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
	if (ss_every(p, "health-check", ss_config_int(p, "healthCheckInterval", 60), on_health) !=
	    SS_OK) {
		ss_log(p, SS_ERROR, "health-check: %s", ss_error_message(p));
		return -1;
	}
	ss_log(p, SS_INFO, "serving the nodes of %s", ss_config_str(p, "apiServer", "?"));
	return 0;
}

/*
 * No on_config: jobs are declared in on_load only, so a new configuration
 * restarts the host and a new healthCheckInterval takes effect.
 */
SS_PLUGIN(.name = "streamspace-node-manager", .version = "1.0.0", .on_load = on_load);
