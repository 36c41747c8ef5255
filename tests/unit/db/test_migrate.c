/* Migration file names, ordering and planning (what is pending, what is too new). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "migrate.h"

static void test_parse_name(void **state)
{
	(void)state;
	assert_int_equal(migrate_parse_name("0001_init.sql"), 1);
	assert_int_equal(migrate_parse_name("0042_add_ratings.sql"), 42);
	assert_int_equal(migrate_parse_name("001_init.sql"), -1);
	assert_int_equal(migrate_parse_name("0001-init.sql"), -1);
	assert_int_equal(migrate_parse_name("0001_Init.sql"), -1);
	assert_int_equal(migrate_parse_name("0001_init.txt"), -1);
	assert_int_equal(migrate_parse_name("0001_.sql"), -1);
	assert_int_equal(migrate_parse_name(NULL), -1);
}

/* The embedded list is well formed: 0001 upwards with no gap. */
static void test_embedded(void **state)
{
	char err[256] = "";

	(void)state;
	assert_true(migration_count >= 2);
	assert_int_equal(migrate_check(migration_table, migration_count, err, sizeof err), 0);
	assert_string_equal(migration_table[0].name, "0001_init.sql");
	assert_non_null(strstr(migration_table[0].sql, "CREATE TABLE installed_plugins"));
	assert_non_null(strstr(migration_table[0].sql, "CREATE TABLE api_tokens"));
	assert_non_null(strstr(migration_table[1].sql, "pg_notify"));
}

static void test_check_rejects(void **state)
{
	const struct migration gap[] = {{1, "0001_a.sql", "x"}, {3, "0003_b.sql", "y"}};
	const struct migration dup[] = {{1, "0001_a.sql", "x"}, {1, "0001_b.sql", "y"}};
	const struct migration order[] = {{2, "0002_a.sql", "x"}, {1, "0001_b.sql", "y"}};
	const struct migration mismatch[] = {{2, "0001_a.sql", "x"}};
	const struct migration empty[] = {{1, "0001_a.sql", ""}};
	char err[256];

	(void)state;
	assert_int_equal(migrate_check(gap, 2, err, sizeof err), -1);
	assert_non_null(strstr(err, "0003_b.sql"));
	assert_int_equal(migrate_check(dup, 2, err, sizeof err), -1);
	assert_int_equal(migrate_check(order, 2, err, sizeof err), -1);
	assert_int_equal(migrate_check(mismatch, 1, err, sizeof err), -1);
	assert_int_equal(migrate_check(empty, 1, err, sizeof err), -1);
	assert_int_equal(migrate_check(gap, 1, err, sizeof err), 0);
}

static void test_plan(void **state)
{
	const struct migration m[] = {
	    {1, "0001_a.sql", "x"}, {2, "0002_b.sql", "y"}, {3, "0003_c.sql", "z"}};
	const int none[] = {0}, some[] = {2, 1}, all[] = {1, 2, 3}, newer[] = {1, 2, 3, 4};
	bool pending[3];
	char err[256] = "";

	(void)state;
	assert_int_equal(migrate_plan(m, 3, none, 0, pending, err, sizeof err), 3);
	assert_true(pending[0] && pending[1] && pending[2]);
	assert_int_equal(migrate_plan(m, 3, some, 2, pending, err, sizeof err), 1);
	assert_false(pending[0]);
	assert_false(pending[1]);
	assert_true(pending[2]);
	assert_int_equal(migrate_plan(m, 3, all, 3, pending, err, sizeof err), 0);
	/* A schema newer than this binary: refuse, naming both versions. */
	assert_int_equal(migrate_plan(m, 3, newer, 4, pending, err, sizeof err), -1);
	assert_non_null(strstr(err, "version 4"));
	assert_non_null(strstr(err, "(3)"));
	assert_non_null(strstr(err, "newer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_name),
	    cmocka_unit_test(test_embedded),
	    cmocka_unit_test(test_check_rejects),
	    cmocka_unit_test(test_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
