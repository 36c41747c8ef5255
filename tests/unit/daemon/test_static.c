#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "static.h"

static int resolve(const char *in, char *out)
{
	return static_path_resolve(in, out, STATIC_PATH_MAX);
}

/* Plain names, escapes of plain characters, "" as the index. */
static void resolves_plain_names(void **state)
{
	char out[STATIC_PATH_MAX];

	assert_int_equal(resolve("", out), 0);
	assert_string_equal(out, "index.html");
	assert_int_equal(resolve("js/app.js", out), 0);
	assert_string_equal(out, "js/app.js");
	assert_int_equal(resolve("%69ndex.html", out), 0);
	assert_string_equal(out, "index.html");
	assert_int_equal(resolve("vendor/x-1.0/x.js", out), 0);
	/* A directory: allowed through, never found (no listing). */
	assert_int_equal(resolve("js/", out), 0);
	assert_string_equal(out, "js/");
}

/* Everything that could climb out, hide or smuggle a NUL is refused, escaped or not. */
static void refuses_traversal(void **state)
{
	static const char *const bad[] = {
	    "..",
	    "../etc/passwd",
	    "%2e%2e",
	    "%2E%2E/x",
	    "js/..",
	    "js/%2e%2e",
	    "..%2fetc",
	    "a/%2e%2e%2fb",
	    ".",
	    "./index.html",
	    ".git/config",
	    "js/.hidden",
	    "index.html%00.js",
	    "%00",
	    "a%5c..%5cb",
	    "a\\b",
	    "%zz",
	    "%2",
	    "%",
	    "/etc/passwd",
	    "a//b",
	    "//",
	    "%2f",
	    "%2fetc%2fpasswd",
	    "/",
	};
	char out[STATIC_PATH_MAX];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (resolve(bad[i], out) != -1)
			fail_msg("accepted \"%s\" as \"%s\"", bad[i], out);
	}
}

static void refuses_long_paths(void **state)
{
	char in[STATIC_PATH_MAX + 8], out[STATIC_PATH_MAX];

	memset(in, 'a', sizeof in - 1);
	in[sizeof in - 1] = '\0';
	assert_int_equal(resolve(in, out), -1);
	assert_int_equal(static_path_resolve("index.html", out, 4), -1);
}

static void types_by_extension(void **state)
{
	assert_string_equal(static_type("a.html"), "text/html; charset=utf-8");
	assert_string_equal(static_type("a/b.js"), "text/javascript; charset=utf-8");
	assert_string_equal(static_type("x.css"), "text/css; charset=utf-8");
	assert_string_equal(static_type("i.svg"), "image/svg+xml");
	assert_string_equal(static_type("LICENSE"), "application/octet-stream");
	assert_string_equal(static_type("a.js.exe"), "application/octet-stream");
}

/* A tree over the file limit is refused whole, with a reason. */
static void refuses_too_many_files(void **state)
{
	char dir[] = "/tmp/ss-static-XXXXXX", path[600], err[256];
	struct static_site *s;

	assert_non_null(mkdtemp(dir));
	for (int i = 0; i <= STATIC_MAX_FILES; i++) {
		snprintf(path, sizeof path, "%s/f%d.txt", dir, i);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fclose(f);
	}
	s = static_site_load(dir, err, sizeof err);
	assert_null(s);
	assert_non_null(strstr(err, "more than 512 files"));
	for (int i = 0; i <= STATIC_MAX_FILES; i++) {
		snprintf(path, sizeof path, "%s/f%d.txt", dir, i);
		unlink(path);
	}
	/* One file fewer than the limit plus an index: loaded, found, sorted lookups. */
	snprintf(path, sizeof path, "%s/index.html", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("<p>hi</p>", f);
	fclose(f);
	s = static_site_load(dir, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(static_site_count(s), 1);
	size_t len;
	const char *type, *etag;
	bool immutable;
	const char *data = static_site_find(s, "index.html", &len, &type, &etag, &immutable);
	assert_non_null(data);
	assert_int_equal(len, 9);
	assert_memory_equal(data, "<p>hi</p>", 9);
	assert_false(immutable);
	assert_int_equal(strlen(etag), 18);
	assert_null(static_site_find(s, "nope.html", &len, &type, &etag, &immutable));
	static_site_free(s);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(resolves_plain_names),   cmocka_unit_test(refuses_traversal),
	    cmocka_unit_test(refuses_long_paths),     cmocka_unit_test(types_by_extension),
	    cmocka_unit_test(refuses_too_many_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
