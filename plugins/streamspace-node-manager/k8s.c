#include "k8s.h"

#include "../common/quantity.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static void put(json_object *o, const char *key, json_object *v)
{
	if (json_object_object_add(o, key, v) != 0)
		abort(); /* json-c's allocation failure, as xmalloc's */
}

/* One DNS-1123 label of n bytes: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
static bool dns_label(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

/* A DNS-1123 subdomain of n bytes: labels separated by dots, at most 253. */
static bool dns_subdomain(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	while (n > 0) {
		const char *dot = memchr(s, '.', n);
		size_t part = dot ? (size_t)(dot - s) : n;
		if (!dns_label(s, part))
			return false;
		if (!dot)
			return true;
		s += part + 1;
		n -= part + 1;
		if (n == 0)
			return false;
	}
	return true;
}

bool k8s_name_valid(const char *name)
{
	return name && dns_subdomain(name, strlen(name));
}

/* A qualified name's name part: at most 63 of [A-Za-z0-9._-], alnum at both ends. */
static bool name_part(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

bool k8s_key_valid(const char *key)
{
	if (!key)
		return false;
	const char *slash = strchr(key, '/');
	if (!slash)
		return name_part(key, strlen(key));
	return dns_subdomain(key, (size_t)(slash - key)) && name_part(slash + 1, strlen(slash + 1));
}

bool k8s_value_valid(const char *value)
{
	return value && (!*value || name_part(value, strlen(value)));
}

bool k8s_effect_valid(const char *effect)
{
	return effect &&
	       (strcmp(effect, "NoSchedule") == 0 || strcmp(effect, "PreferNoSchedule") == 0 ||
		strcmp(effect, "NoExecute") == 0);
}

json_object *k8s_ready_condition(json_object *node)
{
	json_object *conds = get(get(node, "status"), "conditions");
	size_t n =
	    json_object_is_type(conds, json_type_array) ? json_object_array_length(conds) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(conds, i);
		const char *type = get_str(c, "type");
		if (type && strcmp(type, "Ready") == 0)
			return c;
	}
	return NULL;
}

const char *k8s_ready(json_object *node)
{
	const char *status = get_str(k8s_ready_condition(node), "status");
	if (status && (strcmp(status, "True") == 0 || strcmp(status, "False") == 0))
		return status;
	return "Unknown";
}

/* A copy of o[key] (or a new empty object/array when absent). */
static json_object *copy_of(json_object *o, const char *key, bool array)
{
	json_object *v = get(o, key), *c = NULL;
	if (v && json_object_deep_copy(v, &c, NULL) == 0)
		return c;
	return array ? json_object_new_array() : json_object_new_object();
}

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

json_object *k8s_node_summary(json_object *node)
{
	json_object *meta = get(node, "metadata"), *spec = get(node, "spec");
	json_object *status = get(node, "status"), *info = get(status, "nodeInfo");
	json_object *s = json_object_new_object(), *conds = json_object_new_array();
	json_object *src = get(status, "conditions"), *u = get(spec, "unschedulable");
	put(s, "name", str_or_null(get_str(meta, "name")));
	put(s, "ready", json_object_new_string(k8s_ready(node)));
	put(s, "unschedulable", json_object_new_boolean(json_object_get_boolean(u)));
	put(s, "labels", copy_of(meta, "labels", false));
	put(s, "taints", copy_of(spec, "taints", true));
	put(s, "capacity", copy_of(status, "capacity", false));
	put(s, "allocatable", copy_of(status, "allocatable", false));
	put(s, "addresses", copy_of(status, "addresses", true));
	put(s, "kubeletVersion", str_or_null(get_str(info, "kubeletVersion")));
	put(s, "osImage", str_or_null(get_str(info, "osImage")));
	put(s, "containerRuntime", str_or_null(get_str(info, "containerRuntimeVersion")));
	put(s, "architecture", str_or_null(get_str(info, "architecture")));
	put(s, "createdAt", str_or_null(get_str(meta, "creationTimestamp")));
	for (size_t i = 0;
	     json_object_is_type(src, json_type_array) && i < json_object_array_length(src); i++) {
		json_object *c = json_object_array_get_idx(src, i), *o = json_object_new_object();
		put(o, "type", str_or_null(get_str(c, "type")));
		put(o, "status", str_or_null(get_str(c, "status")));
		put(o, "reason", str_or_null(get_str(c, "reason")));
		put(o, "message", str_or_null(get_str(c, "message")));
		if (json_object_array_add(conds, o) != 0)
			abort();
	}
	put(s, "conditions", conds);
	return s;
}

/* Adds the quantities of res (cpu, memory, pods) to tot's cpuCores, memoryBytes, pods. */
static void add_resources(json_object *tot, json_object *res)
{
	static const char *const keys[][2] = {
	    {"cpu", "cpuCores"}, {"memory", "memoryBytes"}, {"pods", "pods"}};
	for (size_t i = 0; i < 3; i++) {
		double q = 0, was = json_object_get_double(get(tot, keys[i][1]));
		const char *v = get_str(res, keys[i][0]);
		if (v && quantity_parse(v, &q))
			put(tot, keys[i][1], json_object_new_double(was + q));
	}
}

json_object *k8s_stats(json_object *list)
{
	json_object *items = get(list, "items"), *s = json_object_new_object();
	json_object *cap = json_object_new_object(), *alloc = json_object_new_object();
	int n = 0, ready = 0, unsched = 0;
	for (const char *k = "cpuCores\0memoryBytes\0pods\0"; *k; k += strlen(k) + 1) {
		put(cap, k, json_object_new_double(0));
		put(alloc, k, json_object_new_double(0));
	}
	for (size_t i = 0;
	     json_object_is_type(items, json_type_array) && i < json_object_array_length(items);
	     i++) {
		json_object *node = json_object_array_get_idx(items, i);
		n++;
		ready += strcmp(k8s_ready(node), "True") == 0;
		unsched += json_object_get_boolean(get(get(node, "spec"), "unschedulable"));
		add_resources(cap, get(get(node, "status"), "capacity"));
		add_resources(alloc, get(get(node, "status"), "allocatable"));
	}
	put(s, "nodes", json_object_new_int(n));
	put(s, "ready", json_object_new_int(ready));
	put(s, "notReady", json_object_new_int(n - ready));
	put(s, "unschedulable", json_object_new_int(unsched));
	put(s, "capacity", cap);
	put(s, "allocatable", alloc);
	return s;
}

json_object *k8s_patch_label(const char *key, const char *value)
{
	json_object *p = json_object_new_object(), *m = json_object_new_object();
	json_object *l = json_object_new_object();
	put(l, key, value ? json_object_new_string(value) : NULL);
	put(m, "labels", l);
	put(p, "metadata", m);
	return p;
}

json_object *k8s_patch_cordon(bool cordon)
{
	json_object *p = json_object_new_object(), *s = json_object_new_object();
	put(s, "unschedulable", cordon ? json_object_new_boolean(1) : NULL);
	put(p, "spec", s);
	return p;
}

json_object *k8s_patch_taints(json_object *node, const char *key, const char *value,
			      const char *effect, bool add, bool *changed)
{
	json_object *old = get(get(node, "spec"), "taints"), *taints = json_object_new_array();
	*changed = false;
	for (size_t i = 0;
	     json_object_is_type(old, json_type_array) && i < json_object_array_length(old); i++) {
		json_object *t = json_object_array_get_idx(old, i);
		const char *k = get_str(t, "key"), *e = get_str(t, "effect");
		bool same_key = k && strcmp(k, key) == 0;
		/* Removed: every taint of key; replaced: the one of key and effect. */
		if (same_key && (!add || (e && effect && strcmp(e, effect) == 0))) {
			*changed = true;
			continue;
		}
		if (json_object_array_add(taints, json_object_get(t)) != 0)
			abort();
	}
	if (add) {
		json_object *t = json_object_new_object();
		put(t, "key", json_object_new_string(key));
		if (value && *value)
			put(t, "value", json_object_new_string(value));
		put(t, "effect", json_object_new_string(effect));
		if (json_object_array_add(taints, t) != 0)
			abort();
		*changed = true;
	}
	json_object *p = json_object_new_object(), *m = json_object_new_object();
	json_object *spec = json_object_new_object();
	const char *rv = get_str(get(node, "metadata"), "resourceVersion");
	if (rv)
		put(m, "resourceVersion", json_object_new_string(rv));
	put(p, "metadata", m);
	put(spec, "taints", taints);
	put(p, "spec", spec);
	return p;
}
