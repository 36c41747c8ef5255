#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "egressreq.h"

static const struct egress_limits lim = {
    .body_max = 16, .timeout_max_ms = 30000, .timeout_default_ms = 10000};

static int parse(const char *json, const char *allowed, struct egress_req *r, const char **code,
		 char *why, size_t len)
{
	json_object *m = json_tokener_parse(json),
		    *a = allowed ? json_tokener_parse(allowed) : NULL;
	int rc;

	assert_non_null(m);
	rc = egress_req_parse(m, a, &lim, r, code, why, len);
	json_object_put(m);
	json_object_put(a);
	return rc;
}

static void refused(const char *json, const char *allowed, const char *want_code, const char *want)
{
	struct egress_req r;
	const char *code = NULL;
	char why[200] = "";

	assert_int_equal(parse(json, allowed, &r, &code, why, sizeof why), -1);
	assert_string_equal(code, want_code);
	if (strstr(why, want) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", json, why, want);
	assert_null(r.url);
	assert_null(r.headers);
}

static void accepted(void **state)
{
	struct egress_req r;
	const char *code = NULL;
	char why[200] = "", line[256];

	assert_int_equal(parse("{\"method\":\"POST\",\"url\":\"https://Hooks.Example.Test:8443/"
			       "in/x?sig=secret#frag\",\"headers\":{\"Authorization\":\"Bearer "
			       "t0k\",\"Content-Type\":\"application/json\"},\"body\":\"{}\","
			       "\"timeout_ms\":500}",
			       "[\"hooks.example.test\"]", &r, &code, why, sizeof why),
			 0);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.host, "hooks.example.test");
	assert_null(strstr(r.url, "frag"));
	assert_int_equal(r.nheaders, 2);
	assert_string_equal(r.headers[0], "Authorization: Bearer t0k");
	assert_null(r.headers[2]);
	assert_string_equal(r.body, "{}");
	assert_int_equal(r.body_len, 2);
	assert_int_equal(r.timeout_ms, 500);
	/* The log line has neither the path, the query nor the headers: the origin only. */
	egress_req_describe(&r, line, sizeof line);
	assert_null(strstr(line, "secret"));
	assert_null(strstr(line, "/in/x"));
	assert_non_null(strstr(line, ":8443/..."));
	assert_null(strstr(line, "t0k"));
	assert_non_null(strstr(line, "POST https://"));
	egress_req_clear(&r);
	egress_req_clear(NULL);

	/* Defaults: GET, no headers, no body, the default timeout; no allowedHosts: any host. */
	assert_int_equal(parse("{\"url\":\"http://x.test/\"}", NULL, &r, &code, why, sizeof why),
			 0);
	assert_string_equal(r.method, "GET");
	assert_int_equal(r.nheaders, 0);
	assert_null(r.body);
	assert_int_equal(r.timeout_ms, 10000);
	assert_null(r.ca);
	egress_req_clear(&r);

	/* A request's own CA is kept as it came (the TLS library judges it). */
	assert_int_equal(parse("{\"url\":\"https://k8s.test:6443/api\",\"ca\":\"-----BEGIN "
			       "CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"}",
			       NULL, &r, &code, why, sizeof why),
			 0);
	assert_string_equal(r.ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	egress_req_describe(&r, line, sizeof line);
	assert_null(strstr(line, "CERTIFICATE"));
	egress_req_clear(&r);
}

static void allowed_hosts(void **state)
{
	json_object *a = json_tokener_parse("[\"api.example.com\", \"*.hooks.test\"]");

	assert_true(egress_host_allowed(a, "api.example.com"));
	assert_true(egress_host_allowed(a, "API.example.COM"));
	assert_true(egress_host_allowed(a, "a.hooks.test"));
	assert_true(egress_host_allowed(a, "b.a.hooks.test"));
	assert_false(egress_host_allowed(a, "hooks.test"));
	assert_false(egress_host_allowed(a, "evilhooks.test"));
	assert_false(egress_host_allowed(a, "api.example.com.evil.test"));
	assert_false(egress_host_allowed(a, "example.com"));
	assert_true(egress_host_allowed(NULL, "anything.test"));
	json_object_put(a);
	refused("{\"url\":\"https://other.test/\"}", "[\"api.example.com\"]", "permission_denied",
		"host other.test is not in the manifest's allowedHosts");
	/* An empty list allows nothing. */
	refused("{\"url\":\"https://api.example.com/\"}", "[]", "permission_denied",
		"allowedHosts");
}

static void bad_requests(void **state)
{
	refused("{}", NULL, "bad_request", "a url (string) is required");
	refused("{\"url\":5}", NULL, "bad_request", "a url (string) is required");
	refused("{\"url\":\"ftp://x.test/\"}", NULL, "bad_request", "http or https only, not ftp");
	refused("{\"url\":\"file:///etc/passwd\"}", NULL, "bad_request", "not file");
	refused("{\"url\":\"https://u:p@x.test/\"}", NULL, "bad_request", "user or password");
	refused("{\"url\":\"not a url\"}", NULL, "bad_request", "not a usable URL");
	refused("{\"url\":\"https://x.test/a\\r\\nb\"}", NULL, "bad_request", "not a usable URL");
	refused("{\"url\":\"http://x.test/\",\"method\":\"CONNECT\"}", NULL, "bad_request",
		"is not GET");
	refused("{\"url\":\"http://x.test/\",\"method\":1}", NULL, "bad_request", "is not GET");
	refused("{\"url\":\"http://x.test/\",\"timeout_ms\":0}", NULL, "bad_request",
		"from 1 to 30000");
	refused("{\"url\":\"http://x.test/\",\"timeout_ms\":30001}", NULL, "bad_request",
		"from 1 to 30000");
	refused("{\"url\":\"http://x.test/\",\"body\":{}}", NULL, "bad_request",
		"body is a string");
	refused("{\"url\":\"https://x.test/\",\"ca\":\"hello\"}", NULL, "bad_request",
		"PEM text of at most 65536 bytes");
	refused("{\"url\":\"https://x.test/\",\"ca\":7}", NULL, "bad_request", "PEM");
	refused("{\"url\":\"http://x.test/\",\"body\":\"01234567890123456\"}", NULL, "too_large",
		"over 16 bytes");
	refused("{\"url\":\"http://x.test/\",\"headers\":[]}", NULL, "bad_request",
		"headers are an object");
	static const char *const owned[] = {
	    "Host", "content-length", "Transfer-Encoding", "Connection", "Proxy-Authorization",
	    "TE",   "Expect"};
	for (size_t i = 0; i < sizeof owned / sizeof *owned; i++) {
		char json[160];
		snprintf(json, sizeof json,
			 "{\"url\":\"http://x.test/\",\"headers\":{\"%s\":\"x\"}}", owned[i]);
		refused(json, NULL, "bad_request", "may not be sent by a plugin");
	}
	refused("{\"url\":\"http://x.test/\",\"headers\":{\"X-A\":\"a\\r\\nHost: evil\"}}", NULL,
		"bad_request", "\"X-A\" may not be sent");
	refused("{\"url\":\"http://x.test/\",\"headers\":{\"X-A\":1}}", NULL, "bad_request",
		"\"X-A\" may not be sent");
	refused("{\"url\":\"http://x.test/\",\"headers\":{\"X A\":\"1\"}}", NULL, "bad_request",
		"may not be sent");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(accepted),
	    cmocka_unit_test(allowed_hosts),
	    cmocka_unit_test(bad_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
