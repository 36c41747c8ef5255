/*
 * Catalog documents: the two shapes, every way an entry can be wrong (each
 * reported with its index and name and skipped), the limits, duplicate
 * versions, and the choice of the version to install.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalog_entry.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF"

static struct catalog *parse(const char *doc, struct pkg_error *err)
{
	return catalog_parse(doc, strlen(doc), NULL, err);
}

static const char *other_arch(void)
{
	return strcmp(catalog_host_arch(), "aarch64") == 0 ? "x86_64" : "aarch64";
}

static void test_shapes(void **state)
{
	static const char *refused[] = {"",
					"   ",
					"42",
					"\"x\"",
					"{}",
					"{\"plugins\": {}}",
					"{\"plugins\": [] } x",
					"[",
					"[1,]",
					"{\"a\":1}",
					"[\"\xff\"]",
					"[] []"};
	struct pkg_error err;
	struct catalog *c;

	(void)state;
	c = parse("[]", &err);
	assert_non_null(c);
	assert_int_equal(c->n_entries, 0);
	catalog_free(c);
	c = parse("{\"plugins\": [{\"name\": \"a\", \"version\": \"1.0.0\"}], \"x\": 1}\n", &err);
	assert_non_null(c);
	assert_int_equal(c->n_entries, 1);
	assert_string_equal(c->entries[0].name, "a");
	assert_null(c->entries[0].sha256);
	assert_int_equal(c->entries[0].abi, 0);
	assert_int_equal(json_object_array_length(c->entries[0].tags), 0);
	catalog_free(c);
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		c = parse(refused[i], &err);
		if (c != NULL)
			fail_msg("accepted %s", refused[i]);
		assert_string_equal(err.check, "catalog");
		assert_true(strlen(err.message) > 10);
	}
}

static void test_full_entry(void **state)
{
	char *doc;
	struct pkg_error err;
	struct catalog *c;
	const struct catalog_entry *e;

	(void)state;
	assert_true(
	    asprintf(&doc,
		     "[{\"name\": \"hello\", \"version\": \"1.2.3-rc.1+b5\","
		     " \"displayName\": \"Hello\", \"description\": \"line one\\nline two\","
		     " \"author\": \"A\", \"category\": \"Utilities\", \"type\": \"extension\","
		     " \"tags\": [\"x\", \"y\"], \"iconUrl\": \"https://e.example/i.png\","
		     " \"downloadUrl\": \"hello/1.2.3/plugin.tar.gz\","
		     " \"manifest\": {\"name\": \"hello\", \"version\": \"1.2.3\"},"
		     " \"sha256\": \"%s\", \"abi\": 1, \"arch\": \"x86_64\","
		     " \"installCount\": 7}]",
		     SHA) > 0);
	c = parse(doc, &err);
	assert_non_null(c);
	assert_int_equal(c->n_skipped, 0);
	assert_int_equal(c->n_entries, 1);
	e = &c->entries[0];
	assert_string_equal(e->version, "1.2.3-rc.1+b5");
	assert_string_equal(e->display_name, "Hello");
	assert_string_equal(e->description, "line one\nline two");
	assert_string_equal(e->author, "A");
	assert_string_equal(e->category, "Utilities");
	assert_string_equal(e->type, "extension");
	assert_string_equal(e->icon_url, "https://e.example/i.png");
	assert_string_equal(e->download_url, "hello/1.2.3/plugin.tar.gz");
	assert_string_equal(e->sha256, SHA);
	assert_string_equal(e->arch, "x86_64");
	assert_int_equal(e->abi, 1);
	assert_int_equal(json_object_array_length(e->tags), 2);
	assert_non_null(e->manifest);
	assert_null(e->signature);
	catalog_free(c);
	free(doc);
}

/* One bad entry between two good ones: reported by index and name, the rest kept. */
static void bad_entry(const char *entry, const char *name, const char *want)
{
	char *doc;
	struct pkg_error err;
	struct catalog *c;

	assert_true(asprintf(&doc,
			     "{\"plugins\": [{\"name\": \"first\", \"version\": \"1.0.0\"}, %s,"
			     " {\"name\": \"last\", \"version\": \"1.0.0\"}]}",
			     entry) > 0);
	c = parse(doc, &err);
	assert_non_null(c);
	if (c->n_entries != 2 || c->n_problems != 1)
		fail_msg("%s: %zu entries, %zu problems", entry, c->n_entries, c->n_problems);
	assert_int_equal(c->n_skipped, 1);
	assert_int_equal(c->problems[0].index, 1);
	assert_string_equal(c->problems[0].name, name);
	if (strstr(c->problems[0].message, want) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", entry, c->problems[0].message, want);
	assert_string_equal(c->entries[0].name, "first");
	assert_string_equal(c->entries[1].name, "last");
	catalog_free(c);
	free(doc);
}

static void test_bad_entries(void **state)
{
	(void)state;
	bad_entry("42", "", "object");
	bad_entry("[]", "", "object");
	bad_entry("{\"version\": \"1.0.0\"}", "", "name is missing");
	bad_entry("{\"name\": 7, \"version\": \"1.0.0\"}", "", "name must be a string");
	bad_entry("{\"name\": \"Bad Name\", \"version\": \"1.0.0\"}", "", "name must match");
	bad_entry("{\"name\": \"marketplace\", \"version\": \"1.0.0\"}", "", "name must match");
	bad_entry("{\"name\": \"p\"}", "p", "version is missing");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0\"}", "p", "semantic version");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"displayName\": 3}", "p",
		  "displayName must be a string");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"author\": \"a\\u0001b\"}", "p",
		  "author holds a control character");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"author\": \"a\\nb\"}", "p",
		  "author holds a control character");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"author\": \"a\\u0000b\"}", "p",
		  "NUL");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"tags\": \"x\"}", "p",
		  "tags must be an array");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"tags\": [1]}", "p",
		  "tag must be a string");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"tags\": [\"aaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}",
		  "p", "longer than 64");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"downloadUrl\": \"ftp://x/p.tgz\"}",
		  "p", "downloadUrl");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"downloadUrl\": \"../p.tar.gz\"}",
		  "p", "downloadUrl");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"downloadUrl\": \"/etc/p.tar.gz\"}",
		  "p", "downloadUrl");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"downloadUrl\": \"a//p.tar.gz\"}",
		  "p", "downloadUrl");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"sha256\": \"abc\"}", "p",
		  "sha256 must be 64");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"sha256\": \"" SHA "0\"}", "p",
		  "sha256 is longer");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"arch\": \"any\"}", "p",
		  "one architecture");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"arch\": \"X86 64\"}", "p",
		  "machine name");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"abi\": 0}", "p", "abi must be");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"abi\": \"1\"}", "p",
		  "abi must be an integer");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"abi\": 1.5}", "p",
		  "abi must be an integer");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"manifest\": []}", "p",
		  "manifest must be an object");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"manifest\": {\"name\": \"q\"}}", "p",
		  "another plugin");
	bad_entry("{\"name\": \"p\", \"version\": \"1.0.0\", \"signature\": \"not one\"}", "p",
		  "four lines");
}

static void test_limits(void **state)
{
	struct catalog_limits lim = {.max_bytes = 64, .max_entries = 2};
	const char *three = "[{\"name\":\"a\",\"version\":\"1.0.0\"},{\"name\":\"b\","
			    "\"version\":\"1.0.0\"},{\"name\":\"c\",\"version\":\"1.0.0\"}]";
	struct pkg_error err;
	struct catalog *c;
	char *doc, *p;
	size_t n = 200;

	(void)state;
	assert_null(catalog_parse(three, strlen(three), &lim, &err));
	assert_non_null(strstr(err.message, "larger than 64 bytes"));
	lim.max_bytes = 4096;
	assert_null(catalog_parse(three, strlen(three), &lim, &err));
	assert_non_null(strstr(err.message, "3 entries, more than 2"));
	lim.max_entries = 3;
	c = catalog_parse(three, strlen(three), &lim, &err);
	assert_non_null(c);
	assert_int_equal(c->n_entries, 3);
	catalog_free(c);
	/* Only the first CATALOG_MAX_PROBLEMS bad entries are described; all are counted. */
	doc = p = calloc(1, n * 8 + 16);
	*p++ = '[';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s{}", i ? "," : "");
	strcpy(p, "]");
	c = parse(doc, &err);
	assert_non_null(c);
	assert_int_equal(c->n_entries, 0);
	assert_int_equal(c->n_problems, CATALOG_MAX_PROBLEMS);
	assert_int_equal(c->n_skipped, n);
	assert_int_equal(c->problems[CATALOG_MAX_PROBLEMS - 1].index, CATALOG_MAX_PROBLEMS - 1);
	catalog_free(c);
	free(doc);
	/* Nesting beyond the parser's depth is refused whole, not recursed into. */
	doc = calloc(1, 2 * 1000 + 1);
	memset(doc, '[', 1000);
	memset(doc + 1000, ']', 1000);
	assert_null(parse(doc, &err));
	assert_string_equal(err.check, "catalog");
	free(doc);
}

static void test_order_and_duplicates(void **state)
{
	const char *doc = "[{\"name\":\"b\",\"version\":\"1.0.0\"},"
			  "{\"name\":\"a\",\"version\":\"1.0.0-rc.1\"},"
			  "{\"name\":\"a\",\"version\":\"1.10.0\",\"author\":\"first\"},"
			  "{\"name\":\"a\",\"version\":\"1.9.0\"},"
			  "{\"name\":\"a\",\"version\":\"1.10.0+other\",\"author\":\"second\"}]";
	struct pkg_error err;
	struct catalog *c = parse(doc, &err);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->n_entries, 4);
	assert_string_equal(c->entries[0].version, "1.10.0");
	assert_string_equal(c->entries[0].author, "first");
	assert_int_equal(c->entries[0].index, 2);
	assert_string_equal(c->entries[1].version, "1.9.0");
	assert_string_equal(c->entries[2].version, "1.0.0-rc.1");
	assert_string_equal(c->entries[3].name, "b");
	assert_int_equal(c->n_problems, 1);
	assert_int_equal(c->problems[0].index, 4);
	assert_string_equal(c->problems[0].name, "a");
	assert_non_null(strstr(c->problems[0].message, "repeats entry 2"));
	catalog_free(c);
}

/* The template with @H replaced by host and @O by other (both shorter than 16). */
static char *subst(const char *tpl, const char *host, const char *other)
{
	char *out = calloc(1, strlen(tpl) * 4 + 1), *o = out;

	for (const char *s = tpl; *s; s++) {
		if (s[0] == '@' && (s[1] == 'H' || s[1] == 'O')) {
			o = stpcpy(o, s[1] == 'H' ? host : other);
			s++;
		} else {
			*o++ = *s;
		}
	}
	return out;
}

static void test_select(void **state)
{
	const char *host = catalog_host_arch(), *other = other_arch();
	char *doc;
	struct pkg_error err;
	struct catalog *c;
	const struct catalog_entry *e;

	(void)state;
	doc = subst("["
		    "{\"name\":\"p\",\"version\":\"1.0.0\",\"abi\":1,\"arch\":\"@H\","
		    "\"sha256\":\"" SHA "\",\"downloadUrl\":\"p-1.0.0.tar.gz\"},"
		    "{\"name\":\"p\",\"version\":\"1.2.0\",\"abi\":1,\"arch\":\"@H\","
		    "\"sha256\":\"" SHA "\",\"downloadUrl\":\"p-1.2.0.tar.gz\"},"
		    "{\"name\":\"p\",\"version\":\"1.3.0-beta\",\"abi\":1,\"arch\":\"@H\","
		    "\"sha256\":\"" SHA "\",\"downloadUrl\":\"p-1.3.0-beta.tar.gz\"},"
		    "{\"name\":\"p\",\"version\":\"1.4.0\",\"abi\":1,\"arch\":\"@O\","
		    "\"sha256\":\"" SHA "\",\"downloadUrl\":\"p-1.4.0.tar.gz\"},"
		    "{\"name\":\"p\",\"version\":\"2.0.0\",\"abi\":2,\"arch\":\"@H\","
		    "\"sha256\":\"" SHA "\",\"downloadUrl\":\"p-2.0.0.tar.gz\"},"
		    "{\"name\":\"p\",\"version\":\"3.0.0\",\"abi\":1,\"arch\":\"@H\","
		    "\"downloadUrl\":\"p-3.0.0.tar.gz\"},"
		    "{\"name\":\"p\",\"version\":\"3.1.0\",\"abi\":1,\"arch\":\"@H\","
		    "\"sha256\":\"" SHA "\"},"
		    "{\"name\":\"q\",\"version\":\"0.1.0-alpha\",\"abi\":1,\"arch\":\"@H\","
		    "\"sha256\":\"" SHA "\",\"downloadUrl\":\"q.tar.gz\"},"
		    "{\"name\":\"q\",\"version\":\"0.1.0-beta\",\"abi\":1,\"arch\":\"@H\","
		    "\"sha256\":\"" SHA "\",\"downloadUrl\":\"q.tar.gz\"},"
		    "{\"name\":\"r\",\"version\":\"1.0.0\"}"
		    "]",
		    host, other);
	c = parse(doc, &err);
	assert_non_null(c);
	assert_int_equal(c->n_skipped, 0);
	/* Newest installable release; the pre-release, other arch, other ABI, no sha256, no URL
	 * pass over. */
	e = catalog_select(c->entries, c->n_entries, "p", NULL, 1, host, &err);
	assert_non_null(e);
	assert_string_equal(e->version, "1.2.0");
	assert_string_equal(err.check, "");
	/* Pinned, by precedence (build metadata ignored). */
	e = catalog_select(c->entries, c->n_entries, "p", "1.0.0+anything", 1, host, &err);
	assert_non_null(e);
	assert_string_equal(e->version, "1.0.0");
	e = catalog_select(c->entries, c->n_entries, "p", "1.3.0-beta", 1, host, &err);
	assert_non_null(e);
	assert_string_equal(e->version, "1.3.0-beta");
	/* Pinned to one that cannot be installed: the reason. */
	assert_null(catalog_select(c->entries, c->n_entries, "p", "2.0.0", 1, host, &err));
	assert_string_equal(err.check, "abi");
	assert_non_null(
	    strstr(err.message, "p 2.0.0: built for SDK ABI 2; this daemon runs SDK ABI 1"));
	assert_null(catalog_select(c->entries, c->n_entries, "p", "1.4.0", 1, host, &err));
	assert_string_equal(err.check, "arch");
	assert_non_null(strstr(err.message, other));
	assert_null(catalog_select(c->entries, c->n_entries, "p", "3.0.0", 1, host, &err));
	assert_string_equal(err.check, "sha256");
	assert_null(catalog_select(c->entries, c->n_entries, "p", "3.1.0", 1, host, &err));
	assert_string_equal(err.check, "download");
	assert_null(catalog_select(c->entries, c->n_entries, "p", "9.9.9", 1, host, &err));
	assert_string_equal(err.check, "not-found");
	assert_null(catalog_select(c->entries, c->n_entries, "p", "latest", 1, host, &err));
	assert_string_equal(err.check, "version");
	assert_null(catalog_select(c->entries, c->n_entries, "nope", NULL, 1, host, &err));
	assert_string_equal(err.check, "not-found");
	/* A daemon of ABI 2 gets 2.0.0; on the other machine 1.4.0. */
	e = catalog_select(c->entries, c->n_entries, "p", NULL, 2, host, &err);
	assert_non_null(e);
	assert_string_equal(e->version, "2.0.0");
	e = catalog_select(c->entries, c->n_entries, "p", NULL, 1, other, &err);
	assert_non_null(e);
	assert_string_equal(e->version, "1.4.0");
	/* Only pre-releases: the newest of them. */
	e = catalog_select(c->entries, c->n_entries, "q", NULL, 1, host, &err);
	assert_non_null(e);
	assert_string_equal(e->version, "0.1.0-beta");
	/* Nothing installable: the newest candidate's reason. */
	assert_null(catalog_select(c->entries, c->n_entries, "r", NULL, 1, host, &err));
	assert_string_equal(err.check, "sha256");
	catalog_free(c);
	free(doc);
}

static void test_entry_parse_alone(void **state)
{
	json_object *obj = json_tokener_parse("{\"name\":\"x\",\"version\":\"0.1.0\"}");
	struct catalog_entry e;
	char why[256];

	(void)state;
	assert_true(catalog_entry_parse(obj, &e, why, sizeof why));
	json_object_put(obj); /* e keeps its own reference */
	assert_string_equal(e.name, "x");
	catalog_entry_clear(&e);
	catalog_entry_clear(&e);
	obj = json_tokener_parse("{\"name\":\"x\"}");
	assert_false(catalog_entry_parse(obj, &e, why, sizeof why));
	assert_null(e.json);
	json_object_put(obj);
}

static void test_resolve_url(void **state)
{
	char *u;

	(void)state;
	u = catalog_resolve_url("file:///srv/catalog/", "hello/1.0.0/plugin.tar.gz");
	assert_string_equal(u, "file:///srv/catalog/hello/1.0.0/plugin.tar.gz");
	free(u);
	u = catalog_resolve_url("https://e.example/repo", "p.tar.gz");
	assert_string_equal(u, "https://e.example/repo/p.tar.gz");
	free(u);
	u = catalog_resolve_url("https://e.example/repo", "https://cdn.example/p.tar.gz");
	assert_string_equal(u, "https://cdn.example/p.tar.gz");
	free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shapes),
	    cmocka_unit_test(test_full_entry),
	    cmocka_unit_test(test_bad_entries),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_order_and_duplicates),
	    cmocka_unit_test(test_select),
	    cmocka_unit_test(test_entry_parse_alone),
	    cmocka_unit_test(test_resolve_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
