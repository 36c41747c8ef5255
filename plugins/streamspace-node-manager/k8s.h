/*
 * k8s: the Node subset of the Kubernetes API this plugin speaks, as pure
 * functions over JSON so that each rule has a unit test: which names, label
 * keys and values and taints the API would accept (checked before a request
 * is made), the summary of a Node object and the cluster's totals, a Node's
 * Ready condition, and the JSON merge patches (RFC 7386, Content-Type
 * application/merge-patch+json) for labels, taints and cordoning.
 */
#ifndef SS_K8S_H
#define SS_K8S_H

#include <json-c/json.h>
#include <stdbool.h>

/* A node's name: a DNS-1123 subdomain (lower-case, at most 253 bytes). */
bool k8s_name_valid(const char *name);
/* A label or taint key: [prefix/]name, name at most 63 of [A-Za-z0-9._-] starting and ending alnum.
 */
bool k8s_key_valid(const char *key);
/* A label or taint value: empty, or as a key's name part. */
bool k8s_value_valid(const char *value);
/* A taint effect: NoSchedule, PreferNoSchedule or NoExecute. */
bool k8s_effect_valid(const char *effect);

/* "True", "False" or "Unknown" of the node's Ready condition; "Unknown" when it has none. */
const char *k8s_ready(json_object *node);
/* The node's Ready condition object (borrowed), or NULL. */
json_object *k8s_ready_condition(json_object *node);

/*
 * What the routes show of a Node: {"name", "ready", "unschedulable",
 * "labels", "taints", "capacity", "allocatable", "addresses", "kubeletVersion",
 * "osImage", "containerRuntime", "architecture", "createdAt", "conditions":
 * [{"type","status","reason","message"}]}. A new object.
 */
json_object *k8s_node_summary(json_object *node);

/*
 * The cluster's totals over a NodeList's items: {"nodes", "ready",
 * "notReady", "unschedulable", "capacity": {"cpuCores", "memoryBytes",
 * "pods"}, "allocatable": {...}} (quantities summed as numbers). A new object.
 */
json_object *k8s_stats(json_object *list);

/* {"metadata": {"labels": {key: value}}} (value NULL: the label removed). */
json_object *k8s_patch_label(const char *key, const char *value);
/* {"spec": {"unschedulable": true}} to cordon, null to uncordon. */
json_object *k8s_patch_cordon(bool cordon);
/*
 * The node's taints with {key, value, effect} added (replacing one of the
 * same key and effect), or with every taint of key removed (effect NULL),
 * as {"metadata": {"resourceVersion"}, "spec": {"taints": [...]}}: a merge
 * patch replaces the list whole, and the resourceVersion makes the API
 * refuse it (409) if the node changed since it was read. *changed says
 * whether the list differs. A new object.
 */
json_object *k8s_patch_taints(json_object *node, const char *key, const char *value,
			      const char *effect, bool add, bool *changed);

#endif
