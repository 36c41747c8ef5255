/* The host's command line (plugin-host/args.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "args.h"

static int parse(struct host_args *a, int argc, char **argv)
{
	char err[256];
	return args_parse(argc, argv, a, err, sizeof err);
}

static void test_minimal_and_defaults(void **state)
{
	struct host_args a;
	char *argv[] = {"host", "--name", "hello", "--plugin", "/p/hello/hello.so"};
	(void)state;

	assert_int_equal(parse(&a, 5, argv), 0);
	assert_string_equal(a.name, "hello");
	assert_string_equal(a.plugin, "/p/hello/hello.so");
	assert_false(a.strict);
	assert_false(a.sandbox_debug);
	assert_int_equal(a.mem_limit, 256ull << 20);
	assert_int_equal(a.cpu_limit, 0);
}

static void test_all_options(void **state)
{
	struct host_args a;
	char *argv[] = {"host",	       "--strict", "--plugin",	  "/x/y.so", "--name",	       "y",
			"--mem-limit", "64M",	   "--cpu-limit", "30",	     "--sandbox-debug"};
	(void)state;

	assert_int_equal(parse(&a, 11, argv), 0);
	assert_true(a.strict);
	assert_true(a.sandbox_debug);
	assert_int_equal(a.mem_limit, 64ull << 20);
	assert_int_equal(a.cpu_limit, 30);
}

/* builtin:<name> runs a plugin compiled into the host; it must be the one named. */
static void test_builtin(void **state)
{
	struct host_args a;
	char *ok[] = {"host", "--name", "audit", "--plugin", "builtin:audit"};
	char *other[] = {"host", "--name", "hello", "--plugin", "builtin:audit"};
	char *empty[] = {"host", "--name", "audit", "--plugin", "builtin:"};
	(void)state;

	assert_int_equal(parse(&a, 5, ok), 0);
	assert_string_equal(a.plugin, "builtin:audit");
	assert_int_equal(parse(&a, 5, other), -1);
	assert_int_equal(parse(&a, 5, empty), -1);
}

static void test_refusals(void **state)
{
	struct host_args a;
	char *missing_name[] = {"host", "--plugin", "/a/b.so"};
	char *relative[] = {"host", "--name", "b", "--plugin", "b.so"};
	char *bad_name[] = {"host", "--name", "Bad_Name", "--plugin", "/a/b.so"};
	char *reserved[] = {"host", "--name", "marketplace", "--plugin", "/a/b.so"};
	char *unknown[] = {"host", "--name", "b", "--plugin", "/a/b.so", "--verbose"};
	char *no_value[] = {"host", "--name", "b", "--plugin"};
	char *bad_mem[] = {"host", "--name", "b", "--plugin", "/a/b.so", "--mem-limit", "12X"};
	char *zero_cpu[] = {"host", "--name", "b", "--plugin", "/a/b.so", "--cpu-limit", "0"};
	(void)state;

	assert_int_equal(parse(&a, 3, missing_name), -1);
	assert_int_equal(parse(&a, 5, relative), -1);
	assert_int_equal(parse(&a, 5, bad_name), -1);
	assert_int_equal(parse(&a, 5, reserved), -1);
	assert_int_equal(parse(&a, 6, unknown), -1);
	assert_int_equal(parse(&a, 4, no_value), -1);
	assert_int_equal(parse(&a, 7, bad_mem), -1);
	assert_int_equal(parse(&a, 7, zero_cpu), -1);
}

static void test_sizes(void **state)
{
	uint64_t v = 0;
	(void)state;

	assert_int_equal(args_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(args_parse_size("2k", &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(args_parse_size("1G", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(args_parse_size("0", &v), -1);
	assert_int_equal(args_parse_size("-1", &v), -1);
	assert_int_equal(args_parse_size("1MB", &v), -1);
	assert_int_equal(args_parse_size("99999999999999999999", &v), -1);
	assert_int_equal(args_parse_size("18014398509481984G", &v), -1);
	assert_int_equal(args_parse_size("", &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minimal_and_defaults),
	    cmocka_unit_test(test_all_options),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_builtin),
	    cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
