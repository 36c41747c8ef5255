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
#include "market.h"
#include "installdir.h"
#include "discovery.h"
#include "manifest.h"

static void test_order(void **state)
{
	struct catalog_filter f;
	char err[256];
	char longq[300];

	(void)state;
	assert_int_equal(api_catalog_filter(NULL, NULL, NULL, NULL, &f, err, sizeof err), 0);
	assert_int_equal(f.sort, CATALOG_SORT_NAME);
	assert_null(f.q);
	assert_int_equal(api_catalog_filter("", "", "", "", &f, err, sizeof err), 0);
	assert_int_equal(f.sort, CATALOG_SORT_NAME);
	assert_null(f.q);
	assert_null(f.category);
	assert_null(f.type);
	assert_int_equal(api_catalog_filter("popular", "x", "y", "z", &f, err, sizeof err), 0);
	assert_int_equal(f.sort, CATALOG_SORT_POPULAR);
	assert_string_equal(f.q, "x");
	assert_string_equal(f.category, "y");
	assert_string_equal(f.type, "z");
	assert_int_equal(api_catalog_filter("rating", NULL, NULL, NULL, &f, err, sizeof err), 0);
	assert_int_equal(f.sort, CATALOG_SORT_RATING);
	assert_int_equal(api_catalog_filter("newest", NULL, NULL, NULL, &f, err, sizeof err), 0);
	assert_int_equal(f.sort, CATALOG_SORT_NEWEST);
	assert_int_equal(
	    api_catalog_filter("name; DROP TABLE x", NULL, NULL, NULL, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "sort"));
	assert_int_equal(api_catalog_filter("name", "\xff\xfe", NULL, NULL, &f, err, sizeof err),
			 -1);
	assert_non_null(strstr(err, "UTF-8"));
	assert_int_equal(api_catalog_filter("name", NULL, "\xc3", NULL, &f, err, sizeof err), -1);
	assert_int_equal(api_catalog_filter("name", "caf\xc3\xa9", NULL, NULL, &f, err, sizeof err),
			 0);
	memset(longq, 'q', sizeof longq - 1);
	longq[sizeof longq - 1] = '\0';
	assert_int_equal(api_catalog_filter("name", longq, NULL, NULL, &f, err, sizeof err), -1);
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
	/* Each refused entry is an issue (logged by the cache once, not by the scan). */
	assert_int_equal(d.nissues, 3);
	assert_non_null(strstr(d.issues[0], "/broken: skipped: "));
	assert_non_null(strstr(d.issues[1], "/noso: skipped: "));
	assert_non_null(strstr(d.issues[2], "/other: skipped: manifest names"));
	assert_string_equal(d.v[0].manifest->name, "alpha");
	assert_string_equal(d.v[1].manifest->name, "beta");
	x = discovery_find(&d, "beta");
	assert_non_null(x);
	assert_non_null(strstr(x->so_path, "/beta/libbeta.so"));
	assert_true(x->so_path[0] == '/');
	assert_null(discovery_find(&d, "noso"));
	json = market_local_entries(&d);
	assert_non_null(strstr(json, "\"category\":\"Tools\""));
	assert_non_null(strstr(json, "\"display_name\":\"alpha\""));
	free(json);

	/* Copy into an install directory, then remove it again. */
	assert_true(asprintf(&p, "%s/installed", root) > 0);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(installdir_copy_tree(x->dir, p, "beta", err, sizeof err), 0);
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
	assert_int_equal(installdir_copy_tree(x->dir, p, "beta", err, sizeof err), 0);
	discovery_clear(&d);
	assert_int_equal(installdir_remove_tree(root), 0);
	assert_int_equal(access(root, F_OK), -1);
	free(p);

	/* A missing directory is an empty catalog, not a failure. */
	discovery_scan("/nonexistent/streamspace", &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.nissues, 1);
	discovery_clear(&d);
	discovery_scan(NULL, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.nissues, 0);
}

/*
 * A FIFO named manifest.json must not hang the scan (open would wait for a
 * writer; before manifest_read_file it did, and with it the daemon). alarm
 * turns a hang into a failure.
 */
static void test_fifo_manifest(void **state)
{
	char root[] = "/tmp/ss-fifo-XXXXXX", *dir, *fifo, err[256];
	struct discovery d;
	struct manifest *m;

	(void)state;
	assert_non_null(mkdtemp(root));
	dir = make_plugin(root, "fifo", NULL, "fifo.so");
	free(make_plugin(root, "good", "{\"name\":\"good\",\"version\":\"1.0.0\"}", "good.so"));
	assert_true(asprintf(&fifo, "%s/manifest.json", dir) > 0);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	alarm(5);
	m = manifest_read_file(fifo, err, sizeof err);
	assert_null(m);
	assert_non_null(strstr(err, "not a regular file"));
	discovery_scan(root, &d);
	alarm(0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].manifest->name, "good");
	assert_int_equal(d.nissues, 1);
	assert_non_null(strstr(d.issues[0], "/fifo: skipped: "));
	discovery_clear(&d);
	/* A symlink in its place is refused too, and so is a file over the limit. */
	assert_int_equal(unlink(fifo), 0);
	assert_int_equal(symlink("/etc/passwd", fifo), 0);
	assert_null(manifest_read_file(fifo, err, sizeof err));
	assert_int_equal(unlink(fifo), 0);
	{
		FILE *f = fopen(fifo, "w");

		assert_non_null(f);
		for (int i = 0; i <= MANIFEST_MAX_BYTES / 8; i++)
			fputs("        ", f);
		fclose(f);
	}
	assert_null(manifest_read_file(fifo, err, sizeof err));
	assert_non_null(strstr(err, "at most"));
	assert_int_equal(installdir_remove_tree(root), 0);
	free(fifo);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_scan),
	    cmocka_unit_test(test_fifo_manifest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
