/* Token hashing, generation, roles, and the cache's answers before it is loaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "token.h"

/* Known SHA-256 vectors (FIPS 180-2). */
static void test_hash_vectors(void **state)
{
	char out[TOKEN_HASH_HEX];

	(void)state;
	token_hash("abc", out);
	assert_string_equal(out,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	token_hash("", out);
	assert_string_equal(out,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_generate(void **state)
{
	char a[64], b[64], ha[TOKEN_HASH_HEX], hb[TOKEN_HASH_HEX];

	(void)state;
	token_generate(a);
	token_generate(b);
	assert_int_equal(strlen(a), 4 + 43);
	assert_memory_equal(a, "sst_", 4);
	for (size_t i = 4; i < strlen(a); i++)
		assert_non_null(strchr(
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
	assert_string_not_equal(a, b);
	token_hash(a, ha);
	token_hash(b, hb);
	assert_string_not_equal(ha, hb);
	assert_int_equal(strlen(ha), 64);
}

static void test_roles(void **state)
{
	(void)state;
	assert_int_equal(token_role_parse("admin"), TOKEN_ROLE_ADMIN);
	assert_int_equal(token_role_parse("service"), TOKEN_ROLE_SERVICE);
	assert_int_equal(token_role_parse("viewer"), TOKEN_ROLE_VIEWER);
	assert_int_equal(token_role_parse("root"), -1);
	assert_int_equal(token_role_parse("Admin"), -1);
	assert_int_equal(token_role_parse(""), -1);
	assert_int_equal(token_role_parse(NULL), -1);
	assert_string_equal(token_role_name(TOKEN_ROLE_ADMIN), "admin");
	assert_string_equal(token_role_name(TOKEN_ROLE_VIEWER), "viewer");
	assert_string_equal(token_role_name(42), "none");
}

/* A cache never loaded cannot tell: the API must answer 503, never 401 or 200. */
static void test_cache_unloaded(void **state)
{
	struct token_cache *tc = token_cache_new(NULL);
	const char *name = "x";

	(void)state;
	assert_int_equal(token_cache_auth("sst_anything", tc, &name), -1);
	assert_null(name);
	token_cache_free(tc);
	token_cache_free(NULL);
}

static void test_cli_usage(void **state)
{
	char *argv1[] = {"token", NULL};
	char *argv2[] = {"token", "frobnicate", NULL};
	char *argv3[] = {"token", "create", "--bogus", NULL};

	(void)state;
	assert_int_equal(token_cli(1, argv1), 64);
	assert_int_equal(token_cli(2, argv2), 64);
	assert_int_equal(token_cli(3, argv3), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_vectors), cmocka_unit_test(test_generate),
	    cmocka_unit_test(test_roles),	 cmocka_unit_test(test_cache_unloaded),
	    cmocka_unit_test(test_cli_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
