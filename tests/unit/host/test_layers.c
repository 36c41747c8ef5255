/* The hello.sandbox report (plugin-host/layers.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "layers.h"

static void test_report(void **state)
{
	struct layers l;
	json_object *o, *on, *missing;
	(void)state;

	memset(&l, 0, sizeof l);
	layers_on(&l, "fds");
	layers_on(&l, "seccomp_serve");
	layers_missing(&l, "landlock", "Function not implemented");
	assert_true(layers_has(&l, "fds"));
	assert_false(layers_has(&l, "landlock"));

	o = layers_json(&l);
	assert_true(json_object_object_get_ex(o, "layers", &on));
	assert_true(json_object_object_get_ex(o, "missing", &missing));
	assert_int_equal(json_object_array_length(on), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(on, 1)),
			    "seccomp_serve");
	assert_int_equal(json_object_array_length(missing), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(missing, 0)),
			    "landlock: Function not implemented");
	json_object_put(o);
	layers_clear(&l);
	assert_int_equal(l.n_on, 0);
	assert_int_equal(l.n_missing, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
