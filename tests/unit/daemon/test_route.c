/*
 * The router (exact and prefix routes, precedence, method matching, 404
 * against 405 and its Allow list) and the role rule of bearer tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "route.h"

static int h1_tag, h2_tag, h3_tag;

static void h1(struct api_req *req, const char *rest, void *arg)
{
}

static void h2(struct api_req *req, const char *rest, void *arg)
{
}

static struct router *table(void)
{
	struct router *r = router_new();

	router_add(r, "GET", "/healthz", false, API_ROLE_NONE, h1, &h1_tag);
	router_add(r, "POST", "/api/events", false, API_ROLE_SERVICE, h1, &h2_tag);
	router_add(r, "GET", "/api/m/installed/", true, API_ROLE_VIEWER, h1, &h1_tag);
	router_add(r, "DELETE", "/api/m/installed/", true, API_ROLE_ADMIN, h2, &h2_tag);
	/* Added later, same method and path: takes precedence. */
	router_add(r, "GET", "/api/m/installed/", true, API_ROLE_ADMIN, h2, &h3_tag);
	router_add(r, "PUT", "/api/m/config/", true, API_ROLE_ADMIN, h2, &h1_tag);
	return r;
}

static void exact_routes(void **state)
{
	struct router *r = table();
	struct route_match m;

	assert_int_equal(router_match(r, "GET", "/healthz", &m), 200);
	assert_ptr_equal(m.fn, h1);
	assert_ptr_equal(m.arg, &h1_tag);
	assert_string_equal(m.rest, "");
	assert_int_equal(m.role, API_ROLE_NONE);
	/* Exact means exact: no prefix, no trailing slash, no case folding. */
	assert_int_equal(router_match(r, "GET", "/healthz/", &m), 404);
	assert_int_equal(router_match(r, "GET", "/healthzz", &m), 404);
	assert_int_equal(router_match(r, "GET", "/HEALTHZ", &m), 404);
	assert_int_equal(router_match(r, "GET", "/", &m), 404);
	router_free(r);
}

/* Only the routes marked held are kept by the bus's hold: POST /api/events, not GET or HEAD. */
static void held_routes(void **state)
{
	struct router *r = table();
	struct route_match m;

	assert_int_equal(router_match(r, "POST", "/api/events", &m), 200);
	assert_false(m.held);
	router_hold(r, "POST", "/api/events");
	assert_int_equal(router_match(r, "POST", "/api/events", &m), 200);
	assert_true(m.held);
	assert_int_equal(router_match(r, "GET", "/healthz", &m), 200);
	assert_false(m.held);
	assert_int_equal(router_match(r, "GET", "/api/m/installed/x", &m), 200);
	assert_false(m.held);
	assert_int_equal(router_match(r, "GET", "/api/events", &m), 405);
	assert_false(m.held);
	router_free(r);
}

static void prefix_routes(void **state)
{
	struct router *r = table();
	struct route_match m;

	assert_int_equal(router_match(r, "GET", "/api/m/installed/hello", &m), 200);
	assert_string_equal(m.rest, "hello");
	assert_int_equal(router_match(r, "GET", "/api/m/installed", &m), 200);
	assert_string_equal(m.rest, "");
	assert_int_equal(router_match(r, "GET", "/api/m/installed/", &m), 200);
	assert_string_equal(m.rest, "");
	/* One segment only below a prefix. */
	assert_int_equal(router_match(r, "GET", "/api/m/installed/a/b", &m), 404);
	assert_int_equal(router_match(r, "GET", "/api/m/installedx", &m), 404);
	router_free(r);
}

static void later_route_wins(void **state)
{
	struct router *r = table();
	struct route_match m;

	assert_int_equal(router_match(r, "GET", "/api/m/installed/x", &m), 200);
	assert_ptr_equal(m.fn, h2);
	assert_ptr_equal(m.arg, &h3_tag);
	assert_int_equal(m.role, API_ROLE_ADMIN);
	router_free(r);
}

static void methods(void **state)
{
	struct router *r = table();
	struct route_match m;

	assert_int_equal(router_match(r, "DELETE", "/api/m/installed/x", &m), 200);
	assert_ptr_equal(m.arg, &h2_tag);
	/* HEAD is served by the GET route. */
	assert_int_equal(router_match(r, "HEAD", "/healthz", &m), 200);
	assert_ptr_equal(m.fn, h1);
	/* The path is known, the method not: 405 and what is allowed, HEAD beside GET. */
	assert_int_equal(router_match(r, "POST", "/healthz", &m), 405);
	assert_string_equal(m.allow, "GET, HEAD");
	assert_null(m.fn);
	assert_int_equal(router_match(r, "GET", "/api/events", &m), 405);
	assert_string_equal(m.allow, "POST");
	assert_int_equal(router_match(r, "PATCH", "/api/m/installed/x", &m), 405);
	assert_string_equal(m.allow, "GET, HEAD, DELETE");
	assert_int_equal(router_match(r, "FROB", "/api/m/config/x", &m), 405);
	assert_string_equal(m.allow, "PUT");
	assert_int_equal(router_match(r, "HEAD", "/api/m/config/x", &m), 405);
	/* Unknown path, any method: 404. */
	assert_int_equal(router_match(r, "PATCH", "/nope", &m), 404);
	assert_string_equal(m.allow, "");
	router_free(r);
}

/* An authenticator over a fixed table, and one that cannot tell. */
static int calls;

static int auth_table(const char *token, void *arg, const char **name)
{
	calls++;
	*name = NULL;
	if (strcmp(token, "sst_admin") == 0) {
		*name = "alice";
		return API_ROLE_ADMIN;
	}
	if (strcmp(token, "sst_service") == 0) {
		*name = "core";
		return API_ROLE_SERVICE;
	}
	if (strcmp(token, "sst_viewer") == 0) {
		*name = "bob";
		return API_ROLE_VIEWER;
	}
	return API_ROLE_NONE;
}

static int auth_down(const char *token, void *arg, const char **name)
{
	calls++;
	*name = NULL;
	return -1;
}

static int decide(api_auth_fn fn, const char *header, enum api_role need, const char **name)
{
	enum api_role role;
	const char *why = NULL;
	int st = route_authorize(fn, NULL, header, need, &role, name, &why);

	if (st != 0) {
		assert_non_null(why);
		assert_null(*name);
		assert_int_equal(role, API_ROLE_NONE);
	}
	return st;
}

static void roles(void **state)
{
	static const char *const tokens[] = {"Bearer sst_viewer", "Bearer sst_service",
					     "Bearer sst_admin"};
	/* want[token][need]: need is viewer, service, admin. */
	static const int want[3][3] = {{0, 403, 403}, {0, 0, 403}, {0, 0, 0}};
	static const char *const names[] = {"bob", "core", "alice"};
	const char *name;

	for (int t = 0; t < 3; t++) {
		for (int n = 0; n < 3; n++) {
			int st = decide(auth_table, tokens[t], (enum api_role)(API_ROLE_VIEWER + n),
					&name);
			assert_int_equal(st, want[t][n]);
			if (st == 0)
				assert_string_equal(name, names[t]);
		}
	}
}

static void no_role_needed(void **state)
{
	const char *name = "x";

	calls = 0;
	/* API_ROLE_NONE routes never ask, whatever the header says (or the database). */
	assert_int_equal(decide(auth_down, NULL, API_ROLE_NONE, &name), 0);
	assert_int_equal(decide(auth_down, "Bearer junk", API_ROLE_NONE, &name), 0);
	assert_null(name);
	/* Without an authenticator (no database), nothing is checked. */
	assert_int_equal(decide(NULL, NULL, API_ROLE_ADMIN, &name), 0);
	assert_int_equal(calls, 0);
}

static void bad_tokens(void **state)
{
	const char *name;

	assert_int_equal(decide(auth_table, NULL, API_ROLE_VIEWER, &name), 401);
	assert_int_equal(decide(auth_table, "", API_ROLE_VIEWER, &name), 401);
	assert_int_equal(decide(auth_table, "Bearer ", API_ROLE_VIEWER, &name), 401);
	assert_int_equal(decide(auth_table, "Basic YWxpY2U6eA==", API_ROLE_VIEWER, &name), 401);
	assert_int_equal(decide(auth_table, "sst_admin", API_ROLE_VIEWER, &name), 401);
	/* Unknown or revoked. */
	assert_int_equal(decide(auth_table, "Bearer sst_nobody", API_ROLE_VIEWER, &name), 401);
	/* Not a b64token: never handed to the authenticator. */
	calls = 0;
	assert_int_equal(decide(auth_table, "Bearer sst_admin junk", API_ROLE_VIEWER, &name), 401);
	assert_int_equal(decide(auth_table, "Bearer sst_admin\tx", API_ROLE_VIEWER, &name), 401);
	assert_int_equal(decide(auth_table, "Bearer sst=admin", API_ROLE_VIEWER, &name), 401);
	assert_int_equal(calls, 0);
	/* Scheme case and extra spaces are fine. */
	assert_int_equal(decide(auth_table, "bearer   sst_admin", API_ROLE_ADMIN, &name), 0);
	assert_string_equal(name, "alice");
}

static void cannot_tell(void **state)
{
	const char *name;

	/* The database is away and the token not cached: 503, not 401 nor 200. */
	for (int n = API_ROLE_VIEWER; n <= API_ROLE_ADMIN; n++)
		assert_int_equal(decide(auth_down, "Bearer sst_admin", (enum api_role)n, &name),
				 503);
	/* A missing token needs no database to refuse. */
	assert_int_equal(decide(auth_down, NULL, API_ROLE_VIEWER, &name), 401);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exact_routes),   cmocka_unit_test(held_routes),
	    cmocka_unit_test(prefix_routes),  cmocka_unit_test(later_route_wins),
	    cmocka_unit_test(methods),	      cmocka_unit_test(roles),
	    cmocka_unit_test(no_role_needed), cmocka_unit_test(bad_tokens),
	    cmocka_unit_test(cannot_tell),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
