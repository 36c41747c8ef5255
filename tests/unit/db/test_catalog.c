/*
 * The catalog listing's parameters and the local discovery of a plugin
 * directory built in a temporary directory.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_catalog.h"
#include "discovery.h"
#include "manifest.h"

static void test_order(void **state)
{
	char err[256];
	char longq[300];

	(void)state;
	assert_string_equal(api_catalog_order(NULL, NULL, NULL, NULL, err, sizeof err), "p.name");
	assert_string_equal(api_catalog_order("", NULL, NULL, NULL, err, sizeof err), "p.name");
	assert_non_null(
	    strstr(api_catalog_order("popular", "x", "y", "z", err, sizeof err), "installCount"));
	assert_non_null(
	    strstr(api_catalog_order("rating", NULL, NULL, NULL, err, sizeof err), "avgRating"));
	assert_non_null(
	    strstr(api_catalog_order("newest", NULL, NULL, NULL, err, sizeof err), "createdAt"));
	assert_null(api_catalog_order("name; DROP TABLE x", NULL, NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "sort"));
	assert_null(api_catalog_order("name", "\xff\xfe", NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "UTF-8"));
	assert_null(api_catalog_order("name", NULL, "\xc3", NULL, err, sizeof err));
	assert_non_null(api_catalog_order("name", "caf\xc3\xa9", NULL, NULL, err, sizeof err));
	memset(longq, 'q', sizeof longq - 1);
	longq[sizeof longq - 1] = '\0';
	assert_null(api_catalog_order("name", longq, NULL, NULL, err, sizeof err));
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static char *make_plugin(const char *root, const char *dir, const char *manifest, const char *so)
{
	char *path;

	assert_true(asprintf(&path, "%s/%s", root, dir) > 0);
	assert_int_equal(mkdir(path, 0755), 0);
	if (manifest)
		write_file(path, "manifest.json", manifest);
	if (so)
		write_file(path, so, "not really ELF");
	return path;
}

static void test_scan(void **state)
{
	char root[] = "/tmp/ss-discovery-XXXXXX", *p, err[256];
	struct discovery d;
	const struct discovered *x;
	char *json;

	(void)state;
	assert_non_null(mkdtemp(root));
	free(make_plugin(root, "alpha", "{\"name\":\"alpha\",\"version\":\"1.0.0\"}", "alpha.so"));
	free(make_plugin(root, "beta",
			 "{\"name\":\"beta\",\"version\":\"2.0.0\",\"category\":\"Tools\","
			 "\"entrypoints\":{\"main\":\"libbeta.so\"},\"tags\":[\"t\"]}",
			 "libbeta.so"));
	/* Refused: no .so, a name that differs, a broken manifest, a bad directory name. */
	free(make_plugin(root, "noso", "{\"name\":\"noso\",\"version\":\"1.0.0\"}", NULL));
	free(make_plugin(root, "other", "{\"name\":\"different\",\"version\":\"1.0.0\"}",
			 "other.so"));
	free(make_plugin(root, "broken", "{\"name\":", "broken.so"));
	free(make_plugin(root, "Bad_Name", "{\"name\":\"Bad_Name\",\"version\":\"1\"}", "x.so"));
	discovery_scan(root, &d);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].manifest->name, "alpha");
	assert_string_equal(d.v[1].manifest->name, "beta");
	x = discovery_find(&d, "beta");
	assert_non_null(x);
	assert_non_null(strstr(x->so_path, "/beta/libbeta.so"));
	assert_true(x->so_path[0] == '/');
	assert_null(discovery_find(&d, "noso"));
	json = discovery_catalog_json(&d);
	assert_non_null(strstr(json, "\"category\":\"Tools\""));
	assert_non_null(strstr(json, "\"display_name\":\"alpha\""));
	free(json);

	/* Copy into an install directory, then remove it again. */
	assert_true(asprintf(&p, "%s/installed", root) > 0);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(discovery_copy_dir(x->dir, p, "beta", err, sizeof err), 0);
	{
		char *so;
		struct stat a, b;

		assert_true(asprintf(&so, "%s/beta/libbeta.so", p) > 0);
		assert_int_equal(stat(so, &a), 0);
		assert_int_equal(stat(x->so_path, &b), 0);
		assert_int_equal(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
		free(so);
	}
	/* Copying again replaces it in place. */
	assert_int_equal(discovery_copy_dir(x->dir, p, "beta", err, sizeof err), 0);
	discovery_clear(&d);
	assert_int_equal(discovery_remove_tree(root), 0);
	assert_int_equal(access(root, F_OK), -1);
	free(p);

	/* A missing directory is an empty catalog, not a failure. */
	discovery_scan("/nonexistent/streamspace", &d);
	assert_int_equal(d.n, 0);
	discovery_scan(NULL, &d);
	assert_int_equal(d.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
