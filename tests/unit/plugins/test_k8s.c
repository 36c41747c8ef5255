/*
 * streamspace-node-manager's Kubernetes rules: names, label keys and values
 * and taint effects as the API validates them, a Node's Ready condition and
 * summary, the cluster's totals from a NodeList, and the merge patches
 * (RFC 7386) for labels, cordoning and taints.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonpath.h"

#include "../../../plugins/streamspace-node-manager/k8s.h"

#define NODE(name, ready, extra)                                                                   \
	"{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"" name "\","            \
	"\"resourceVersion\":\"7\",\"labels\":{\"a\":\"b\"}},\"spec\":{" extra "},"                \
	"\"status\":{\"capacity\":{\"cpu\":\"4\",\"memory\":\"2Gi\",\"pods\":\"110\"},"            \
	"\"allocatable\":{\"cpu\":\"3500m\",\"memory\":\"1Gi\",\"pods\":\"110\"},"                 \
	"\"conditions\":[{\"type\":\"DiskPressure\",\"status\":\"False\"},{\"type\":\"Ready\","    \
	"\"status\":\"" ready "\",\"reason\":\"R\",\"message\":\"M\"}],"                           \
	"\"nodeInfo\":{\"kubeletVersion\":\"v1.29.2\"}}}"

static void test_names(void **state)
{
	(void)state;
	assert_true(k8s_name_valid("node-a"));
	assert_true(k8s_name_valid("ip-10-0-0-1.ec2.internal"));
	assert_false(k8s_name_valid("Node-A"));
	assert_false(k8s_name_valid("-a"));
	assert_false(k8s_name_valid("a..b"));
	assert_false(k8s_name_valid("a."));
	assert_false(k8s_name_valid(""));
	assert_false(k8s_name_valid(NULL));
	assert_false(k8s_name_valid("a/b"));
	char long_name[300];
	memset(long_name, 'a', sizeof long_name);
	long_name[254] = '\0';
	assert_false(k8s_name_valid(long_name));
	assert_true(k8s_key_valid("team"));
	assert_true(k8s_key_valid("node-role.kubernetes.io/worker"));
	assert_true(k8s_key_valid("A_b.c-D"));
	assert_false(k8s_key_valid("bad key"));
	assert_false(k8s_key_valid("/x"));
	assert_false(k8s_key_valid("Upper.io/x"));
	assert_false(k8s_key_valid("x/"));
	assert_false(k8s_key_valid("-x"));
	assert_true(k8s_value_valid(""));
	assert_true(k8s_value_valid("gpu-1"));
	assert_false(k8s_value_valid("a b"));
	assert_false(
	    k8s_value_valid("1234567890123456789012345678901234567890123456789012345678901234"));
	assert_true(k8s_effect_valid("NoExecute"));
	assert_false(k8s_effect_valid("noschedule"));
	assert_false(k8s_effect_valid(NULL));
}

static void test_summary_and_stats(void **state)
{
	(void)state;
	json_object *n = parse(NODE("n1", "True", "\"unschedulable\":true"));
	assert_string_equal(k8s_ready(n), "True");
	assert_string_equal(str_at(k8s_ready_condition(n), "reason"), "R");
	json_object *s = k8s_node_summary(n);
	assert_string_equal(str_at(s, "name"), "n1");
	assert_string_equal(str_at(s, "ready"), "True");
	assert_true(json_object_get_boolean(at(s, "unschedulable")));
	assert_string_equal(str_at(s, "labels/a"), "b");
	assert_int_equal(json_object_array_length(at(s, "taints")), 0);
	assert_string_equal(str_at(s, "capacity/cpu"), "4");
	assert_string_equal(str_at(s, "kubeletVersion"), "v1.29.2");
	assert_string_equal(str_at(s, "conditions/1/type"), "Ready");
	assert_string_equal(str_at(s, "conditions/1/message"), "M");
	assert_true(json_object_object_get_ex(s, "osImage", NULL) && !at(s, "osImage"));
	json_object_put(s);
	json_object_put(n);
	n = parse("{\"metadata\":{\"name\":\"x\"}}");
	assert_string_equal(k8s_ready(n), "Unknown");
	assert_null(k8s_ready_condition(n));
	json_object_put(n);

	json_object *list =
	    parse("{\"kind\":\"NodeList\",\"items\":[" NODE("a", "True", "") "," NODE(
		"b", "False", "\"unschedulable\":true") "," NODE("c", "Unknown", "") "]}");
	json_object *st = k8s_stats(list);
	assert_int_equal(json_object_get_int(at(st, "nodes")), 3);
	assert_int_equal(json_object_get_int(at(st, "ready")), 1);
	assert_int_equal(json_object_get_int(at(st, "notReady")), 2);
	assert_int_equal(json_object_get_int(at(st, "unschedulable")), 1);
	assert_true(fabs(json_object_get_double(at(st, "capacity/cpuCores")) - 12) < 1e-9);
	assert_true(fabs(json_object_get_double(at(st, "allocatable/cpuCores")) - 10.5) < 1e-9);
	assert_true(
	    fabs(json_object_get_double(at(st, "capacity/memoryBytes")) - 3 * 2147483648.0) < 1);
	assert_true(fabs(json_object_get_double(at(st, "capacity/pods")) - 330) < 1e-9);
	json_object_put(st);
	json_object_put(list);
	st = k8s_stats(NULL);
	assert_int_equal(json_object_get_int(at(st, "nodes")), 0);
	json_object_put(st);
}

static void test_patches(void **state)
{
	(void)state;
	json_object *p = k8s_patch_label("node-role.kubernetes.io/gpu", "true");
	assert_string_equal(
	    json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
	    "{\"metadata\":{\"labels\":{\"node-role.kubernetes.io\\/gpu\":\"true\"}}}");
	json_object_put(p);
	p = k8s_patch_label("team", NULL);
	assert_string_equal(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
			    "{\"metadata\":{\"labels\":{\"team\":null}}}");
	json_object_put(p);
	p = k8s_patch_cordon(true);
	assert_string_equal(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
			    "{\"spec\":{\"unschedulable\":true}}");
	json_object_put(p);
	p = k8s_patch_cordon(false);
	assert_string_equal(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
			    "{\"spec\":{\"unschedulable\":null}}");
	json_object_put(p);

	json_object *n = parse(NODE("n", "True",
				    "\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"},"
				    "{\"key\":\"a\",\"value\":\"v\",\"effect\":\"NoExecute\"},"
				    "{\"key\":\"b\",\"effect\":\"NoSchedule\"}]"));
	bool changed;
	/* Added: one of the same key and effect replaced, the others kept, the version named. */
	p = k8s_patch_taints(n, "a", "x", "NoSchedule", true, &changed);
	assert_true(changed);
	assert_string_equal(str_at(p, "metadata/resourceVersion"), "7");
	assert_int_equal(json_object_array_length(at(p, "spec/taints")), 3);
	assert_string_equal(str_at(p, "spec/taints/0/effect"), "NoExecute");
	assert_string_equal(str_at(p, "spec/taints/1/key"), "b");
	assert_string_equal(str_at(p, "spec/taints/2/value"), "x");
	json_object_put(p);
	/* An empty value is left out. */
	p = k8s_patch_taints(n, "c", "", "PreferNoSchedule", true, &changed);
	assert_null(at(p, "spec/taints/3/value"));
	assert_string_equal(str_at(p, "spec/taints/3/effect"), "PreferNoSchedule");
	json_object_put(p);
	/* Removed: every taint of the key. */
	p = k8s_patch_taints(n, "a", NULL, NULL, false, &changed);
	assert_true(changed);
	assert_int_equal(json_object_array_length(at(p, "spec/taints")), 1);
	assert_string_equal(str_at(p, "spec/taints/0/key"), "b");
	json_object_put(p);
	p = k8s_patch_taints(n, "zzz", NULL, NULL, false, &changed);
	assert_false(changed);
	json_object_put(p);
	json_object_put(n);
	/* No taints at all: an empty list, not a missing one. */
	n = parse(NODE("n", "True", ""));
	p = k8s_patch_taints(n, "a", NULL, NULL, false, &changed);
	assert_false(changed);
	assert_int_equal(json_object_array_length(at(p, "spec/taints")), 0);
	json_object_put(p);
	json_object_put(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_summary_and_stats),
	    cmocka_unit_test(test_patches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
