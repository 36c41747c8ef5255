/* The formats "format" checks, and the ones it lets pass as annotations. */
#include <stdlib.h>

#include "schema_test.h"

static bool ok(const char *format, const char *s)
{
	return schema_format_check(format, s, strlen(s));
}

static void date_time(void **state)
{
	assert_true(ok("date-time", "2026-12-01T17:00:42Z"));
	assert_true(ok("date-time", "2026-12-01t17:00:42.123+01:30"));
	assert_true(ok("date-time", "2024-02-29T00:00:00Z"));
	assert_true(ok("date-time", "1998-12-31T23:59:60Z"));
	assert_false(ok("date-time", "2023-02-29T00:00:00Z"));
	assert_false(ok("date-time", "2026-12-01 17:00:42Z"));
	assert_false(ok("date-time", "2026-12-01T17:00:42"));
	assert_false(ok("date-time", "2026-13-01T17:00:42Z"));
	assert_false(ok("date-time", "2026-12-01T24:00:00Z"));
	assert_false(ok("date-time", "2026-12-01T17:00:42.Z"));
	assert_true(ok("date", "2026-12-01"));
	assert_false(ok("date", "2026-12-1"));
	assert_true(ok("time", "08:30:06+00:20"));
	assert_false(ok("time", "08:30:06"));
}

static void uri(void **state)
{
	assert_true(ok("uri", "https://hooks.slack.com/services/T0/B1?x=1#f"));
	assert_true(ok("uri", "http://[2001:db8::7]:8080/c=GB?objectClass?one"));
	assert_true(ok("uri", "urn:oasis:names:specification:docbook:dtd:xml:4.1.2"));
	assert_true(ok("uri", "mailto:someone@example.com"));
	assert_true(ok("uri", "http://user:p%40ss@host:1/"));
	assert_false(ok("uri", "//example.com/relative"));
	assert_false(ok("uri", "/path"));
	assert_false(ok("uri", "http://exa mple.com/"));
	assert_false(ok("uri", "http://example.com/%zz"));
	assert_false(ok("uri", "http://host:port/"));
	assert_false(ok("uri", "http://[::1/"));
	assert_false(ok("uri", "1http://x"));
	assert_false(ok("uri", "http://x/#a#b"));
	assert_true(ok("uri-reference", "/path?q#f"));
	assert_true(ok("uri-reference", ""));
	assert_false(ok("uri-reference", "\\\\server\\share"));
	assert_true(ok("iri", "http://\xc3\xa9xample.com/\xc3\xa9"));
	assert_false(ok("uri", "http://\xc3\xa9xample.com/"));
}

static void email_and_hostname(void **state)
{
	assert_true(ok("email", "joe.bloggs@example.com"));
	assert_true(ok("email", "ops+alerts@[192.0.2.1]"));
	assert_true(ok("email", "a@[IPv6:2001:db8::1]"));
	assert_false(ok("email", "joe"));
	assert_false(ok("email", "@example.com"));
	assert_false(ok("email", "joe..bloggs@example.com"));
	assert_false(ok("email", ".joe@example.com"));
	assert_false(ok("email", "joe@-example.com"));
	assert_true(ok("hostname", "hooks.slack.com"));
	assert_true(ok("hostname", "localhost"));
	assert_true(ok("hostname", "xn--bcher-kva.example"));
	assert_false(ok("hostname", "-bad.example"));
	assert_false(ok("hostname", "bad-.example"));
	assert_false(ok("hostname", "under_score.example"));
	assert_false(ok("hostname", "a..b"));
	assert_false(ok("hostname", ""));
	char label[80];
	memset(label, 'a', 64);
	label[64] = '\0';
	assert_false(ok("hostname", label));
	label[63] = '\0';
	assert_true(ok("hostname", label));
}

static void others(void **state)
{
	assert_true(ok("ipv4", "192.168.0.1"));
	assert_false(ok("ipv4", "192.168.0"));
	assert_false(ok("ipv4", "256.0.0.1"));
	assert_true(ok("ipv6", "::1"));
	assert_false(ok("ipv6", "12345::"));
	assert_true(ok("json-pointer", "/a~1b/~0"));
	assert_false(ok("json-pointer", "/a~2"));
	assert_false(ok("json-pointer", "a"));
	assert_true(ok("relative-json-pointer", "0#"));
	assert_true(ok("relative-json-pointer", "1/a"));
	assert_false(ok("relative-json-pointer", "01/a"));
	assert_true(ok("regex", "^[a-z]+$"));
	assert_false(ok("regex", "^(a"));
	assert_true(ok("uri-template", "http://example.com/{user}/{repo}"));
	assert_false(ok("uri-template", "http://example.com/{user"));
}

/* Through the validator: only strings are checked; unknown names pass. */
static void in_schemas(void **state)
{
	const char *s =
	    "{\"properties\":{\"url\":{\"format\":\"uri\"},\"at\":{\"format\":\"date-"
	    "time\"},\"mail\":{\"format\":\"email\"},\"host\":{\"format\":\"hostname\"}}}";
	assert_valid(s, "{\"url\":\"https://x.example/\",\"at\":\"2026-01-01T00:00:00Z\","
			"\"mail\":\"a@b.example\",\"host\":\"b.example\"}");
	assert_errors(s, "{\"url\":\"nope\",\"at\":\"yesterday\",\"mail\":\"x\",\"host\":\"a_b\"}",
		      "/url format;/at format;/mail format;/host format");
	assert_valid(s, "{\"url\":1}");
	assert_true(schema_format_known("uri"));
	assert_false(schema_format_known("password"));
	assert_valid("{\"format\":\"password\"}", "\"anything\"");
	assert_valid("{\"format\":\"idn-hostname\"}", "\"anything\"");
	assert_compile_error("{\"format\":1}", "format must be a string");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(date_time),	  cmocka_unit_test(uri),
	    cmocka_unit_test(email_and_hostname), cmocka_unit_test(others),
	    cmocka_unit_test(in_schemas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
