#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proute.h"

static int add(struct proutes *t, const char *json, char *why, size_t len)
{
	json_object *d = json_tokener_parse(json);
	int r;

	assert_non_null(d);
	r = proutes_add(t, d, why, len);
	json_object_put(d);
	return r;
}

static void added(struct proutes *t, const char *json)
{
	char why[160] = "";
	if (add(t, json, why, sizeof why) != 0)
		fail_msg("%s refused: %s", json, why);
}

static void refused(struct proutes *t, const char *json, const char *want)
{
	char why[160] = "";
	size_t before = proutes_count(t);

	assert_int_equal(add(t, json, why, sizeof why), -1);
	assert_int_equal(proutes_count(t), before);
	if (strstr(why, want) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", json, why, want);
}

static void declarations(void **state)
{
	struct proutes *t = proutes_new();
	char big[600];

	added(t, "{\"method\":\"GET\",\"path\":\"/hello\"}");
	added(t, "{\"method\":\"GET\",\"path\":\"/\",\"public\":true}");
	added(t, "{\"method\":\"POST\",\"path\":\"/items/:id\",\"role\":\"admin\"}");
	added(t, "{\"method\":\"DELETE\",\"path\":\"/a.b/c_d/e~f-g/:x1\"}");
	assert_int_equal(proutes_count(t), 4);

	refused(t, "[]", "an object");
	refused(t, "{\"path\":\"/x\"}", "needs a method and a path");
	refused(t, "{\"method\":\"GET\",\"path\":\"/x\",\"extra\":1}", "\"extra\" is unknown");
	refused(t, "{\"method\":\"GET\",\"path\":\"/x\",\"public\":\"yes\"}", "wrong type");
	refused(t, "{\"method\":\"TRACE\",\"path\":\"/x\"}", "is not GET");
	refused(t, "{\"method\":\"get\",\"path\":\"/x\"}", "is not GET");
	refused(t, "{\"method\":\"GET\",\"path\":\"x\"}", "starts with \"/\"");
	refused(t, "{\"method\":\"GET\",\"path\":\"/x/\"}", "empty segment");
	refused(t, "{\"method\":\"GET\",\"path\":\"/x//y\"}", "empty segment");
	refused(t, "{\"method\":\"GET\",\"path\":\"/x/:\"}", "empty segment name");
	refused(t, "{\"method\":\"GET\",\"path\":\"/x y\"}", "' ' is not allowed");
	refused(t, "{\"method\":\"GET\",\"path\":\"/x%41\"}", "'%' is not allowed");
	refused(t, "{\"method\":\"GET\",\"path\":\"/:Id\"}", "in a :param name");
	refused(t, "{\"method\":\"GET\",\"path\":\"/:1d\"}", "in a :param name");
	refused(t, "{\"method\":\"GET\",\"path\":\"/:a/:a\"}", "names :a twice");
	refused(t, "{\"method\":\"GET\",\"path\":\"/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q\"}",
		"more than 16 segments");
	refused(t, "{\"method\":\"GET\",\"path\":\"/x\",\"public\":true,\"role\":\"admin\"}",
		"needs no role");
	refused(t, "{\"method\":\"GET\",\"path\":\"/x\",\"role\":\"root\"}", "is not viewer");
	/* The same method and shape as one already there, whatever the param's name. */
	refused(t, "{\"method\":\"GET\",\"path\":\"/hello\",\"public\":true}",
		"overlaps GET /hello");
	refused(t, "{\"method\":\"POST\",\"path\":\"/items/:other\"}", "overlaps POST /items/:id");
	memset(big, 'a', sizeof big);
	memcpy(big, "{\"method\":\"GET\",\"path\":\"/", 25);
	memcpy(big + sizeof big - 3, "\"}", 3);
	refused(t, big, "at most 256 bytes");
	assert_int_equal(proutes_count(t), 4);
	proutes_free(t);
	proutes_free(NULL);
}

static void limit(void **state)
{
	struct proutes *t = proutes_new();
	char json[96];

	for (int i = 0; i < PROUTE_MAX; i++) {
		snprintf(json, sizeof json, "{\"method\":\"GET\",\"path\":\"/r%d\"}", i);
		added(t, json);
	}
	refused(t, "{\"method\":\"GET\",\"path\":\"/one-more\"}", "at most 64 routes");
	proutes_free(t);
}

static void matching(void **state)
{
	struct proutes *t = proutes_new();
	struct proute_match m;

	added(t, "{\"method\":\"GET\",\"path\":\"/items/:id\"}");
	added(t, "{\"method\":\"GET\",\"path\":\"/items/new\",\"public\":true}");
	added(t, "{\"method\":\"PUT\",\"path\":\"/items/:id\",\"role\":\"service\"}");
	added(t, "{\"method\":\"GET\",\"path\":\"/:a/:b/:c\"}");
	added(t, "{\"method\":\"GET\",\"path\":\"/\"}");

	assert_int_equal(proutes_match(t, "GET", "/items/42", &m), 200);
	assert_int_equal(m.index, 0);
	assert_string_equal(m.pattern, "/items/:id");
	assert_int_equal(m.role, PROUTE_VIEWER);
	assert_string_equal(json_object_to_json_string(m.params), "{ \"id\": \"42\" }");
	json_object_put(m.params);

	/* A literal segment beats a param in the same place. */
	assert_int_equal(proutes_match(t, "GET", "/items/new", &m), 200);
	assert_int_equal(m.index, 1);
	assert_int_equal(m.role, PROUTE_PUBLIC);
	json_object_put(m.params);

	/* HEAD is served by GET; PUT by its own route. */
	assert_int_equal(proutes_match(t, "HEAD", "/items/7", &m), 200);
	assert_int_equal(m.index, 0);
	json_object_put(m.params);
	assert_int_equal(proutes_match(t, "PUT", "/items/7", &m), 200);
	assert_int_equal(m.role, PROUTE_SERVICE);
	json_object_put(m.params);

	/* Params are percent-decoded; malformed or "/"/NUL-producing encodings are 400. */
	assert_int_equal(proutes_match(t, "GET", "/items/a%20b%C3%A9", &m), 200);
	assert_string_equal(json_object_get_string(json_object_object_get(m.params, "id")),
			    "a b\xc3\xa9");
	json_object_put(m.params);
	assert_int_equal(proutes_match(t, "GET", "/items/%2F", &m), 400);
	assert_null(m.params);
	assert_int_equal(proutes_match(t, "GET", "/items/%00", &m), 400);
	assert_int_equal(proutes_match(t, "GET", "/items/%4", &m), 400);
	assert_int_equal(proutes_match(t, "GET", "/items/%zz", &m), 400);

	assert_int_equal(proutes_match(t, "GET", "/x/y/z", &m), 200);
	assert_string_equal(json_object_to_json_string(m.params),
			    "{ \"a\": \"x\", \"b\": \"y\", \"c\": \"z\" }");
	json_object_put(m.params);
	assert_int_equal(proutes_match(t, "GET", "", &m), 200);
	assert_int_equal(m.index, 4);
	json_object_put(m.params);
	assert_int_equal(proutes_match(t, "GET", "/", &m), 200);
	json_object_put(m.params);

	/* No route has the path: 404; the path but not the method: 405 with Allow. */
	assert_int_equal(proutes_match(t, "GET", "/nothing", &m), 404);
	assert_int_equal(proutes_match(t, "GET", "/items", &m), 404);
	assert_int_equal(proutes_match(t, "GET", "/items/", &m), 404);
	assert_int_equal(proutes_match(t, "GET", "/items//x", &m), 404);
	assert_int_equal(proutes_match(t, "GET", "items/1", &m), 404);
	assert_int_equal(proutes_match(t, "DELETE", "/items/9", &m), 405);
	assert_string_equal(m.allow, "GET, HEAD, PUT");
	assert_null(m.params);
	proutes_free(t);
}

static int check(const char *json, int *status, char *why, size_t len)
{
	json_object *r = json_tokener_parse(json);
	int rc;

	assert_non_null(r);
	rc = proute_check_answer(r, status, why, len);
	json_object_put(r);
	return rc;
}

static void answers(void **state)
{
	static const char *const bad[] = {
	    "{\"status\":99}",
	    "{\"status\":100}",
	    "{\"status\":101}",
	    "{\"status\":199}",
	    "{\"status\":600}",
	    "{\"status\":\"200\"}",
	    "{\"status\":200.5}",
	    "{\"body\":{}}",
	    "{\"headers\":[]}",
	    "{\"headers\":{\"X-A\":1}}",
	    "{\"headers\":{\"Content-Length\":\"5\"}}",
	    "{\"headers\":{\"transfer-encoding\":\"chunked\"}}",
	    "{\"headers\":{\"Connection\":\"close\"}}",
	    "{\"headers\":{\"Keep-Alive\":\"timeout=5\"}}",
	    "{\"headers\":{\"Upgrade\":\"h2c\"}}",
	    "{\"headers\":{\"TE\":\"trailers\"}}",
	    "{\"headers\":{\"Trailer\":\"X\"}}",
	    "{\"headers\":{\"Proxy-Authenticate\":\"Basic\"}}",
	    "{\"headers\":{\"X-A\":\"a\\r\\nSet-Cookie: x=1\"}}",
	    "{\"headers\":{\"X-A\":\"a\\nb\"}}",
	    "{\"headers\":{\"X-A\":\"a\\u0001b\"}}",
	    "{\"headers\":{\"X A\":\"b\"}}",
	    "{\"headers\":{\"X:A\":\"b\"}}",
	    "{\"headers\":{\"\":\"b\"}}",
	};
	char why[160];
	int status = 0;

	assert_int_equal(check("{}", &status, why, sizeof why), 0);
	assert_int_equal(status, 200);
	assert_int_equal(check("{\"status\":404,\"headers\":{\"Content-Type\":\"text/plain\","
			       "\"X-Tab\":\"a\\tb\",\"Set-Cookie\":\"a=1\"},\"body\":\"no\"}",
			       &status, why, sizeof why),
			 0);
	assert_int_equal(status, 404);
	assert_int_equal(check("{\"status\":599}", &status, why, sizeof why), 0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		status = 0;
		if (check(bad[i], &status, why, sizeof why) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(status, 0);
	}
	assert_true(proute_header_allowed("X-Request-Id", "abc"));
	assert_false(proute_header_allowed("proxy-connection", "x"));
	assert_false(proute_header_allowed("Date", "x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(declarations),
	    cmocka_unit_test(limit),
	    cmocka_unit_test(matching),
	    cmocka_unit_test(answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
