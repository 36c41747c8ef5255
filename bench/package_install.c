/*
 * package_*: what an install costs on the worker thread once the download is
 * on disk. A package like a real one (manifest.json, the counter plugin's
 * .so) plus a file of random bytes that makes it MIB MiB, gzip'd by
 * libarchive's writer; then, five times each, the median of:
 *   package_sha256_mib_per_s   package_sha256_file over the archive
 *   package_unpack_ms          package_unpack: extraction with every check,
 *                              the gzip stream inflated again, the manifest
 *                              and the ELF checks (what package_prepare adds
 *                              after the digest)
 *   package_unpack_mib_per_s   the same as unpacked bytes per second
 *
 *   package_install SO [MIB]
 */
#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <streamspace/plugin.h>

#include "package.h"

#define RUNS 5

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add(struct archive *a, const char *name, const void *data, size_t n, int mode)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, mode);
	archive_entry_set_size(e, (la_int64_t)n);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    archive_write_data(a, data, n) != (la_ssize_t)n) {
		fprintf(stderr, "package_install: writing %s: %s\n", name, archive_error_string(a));
		exit(1);
	}
	archive_entry_free(e);
}

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0) {
		perror(path);
		exit(1);
	}
	rewind(f);
	buf = malloc((size_t)len + 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*n = (size_t)len;
	return buf;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const char manifest[] = "{\"name\":\"counter\",\"version\":\"1.0.0\"}";
	size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 32, so_len, data_len;
	char dir[] = "/tmp/ss-bench-package-XXXXXX", path[64];
	double sha_t[RUNS], unpack_t[RUNS];
	unsigned char *so, *data, digest[32];
	struct archive *a;
	struct pkg_error err;

	if (argc < 2 || sodium_init() < 0 || mkdtemp(dir) == NULL) {
		fprintf(stderr, "usage: package_install SO [MIB]\n");
		return 64;
	}
	so = slurp(argv[1], &so_len);
	data_len = mib << 20;
	data = malloc(data_len);
	randombytes_buf(data, data_len);
	snprintf(path, sizeof path, "%s/plugin.tar.gz", dir);
	a = archive_write_new();
	archive_write_add_filter_gzip(a);
	archive_write_set_format_ustar(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		fprintf(stderr, "package_install: %s\n", archive_error_string(a));
		return 1;
	}
	add(a, "manifest.json", manifest, sizeof manifest - 1, 0644);
	add(a, "counter.so", so, so_len, 0755);
	add(a, "data.bin", data, data_len, 0644);
	archive_write_free(a);
	for (int i = 0; i < RUNS; i++) {
		double t0 = now();
		char *out;

		if (package_sha256_file(path, 1ull << 34, digest, &err) < 0) {
			fprintf(stderr, "package_install: %s\n", err.message);
			return 1;
		}
		sha_t[i] = now() - t0;
		t0 = now();
		out = package_unpack(path, dir, "counter", "1.0.0", SS_SDK_ABI, NULL, &err);
		unpack_t[i] = now() - t0;
		if (out == NULL) {
			fprintf(stderr, "package_install: %s\n", err.message);
			return 1;
		}
		pkg_tree_remove(out);
		free(out);
	}
	qsort(sha_t, RUNS, sizeof *sha_t, cmp);
	qsort(unpack_t, RUNS, sizeof *unpack_t, cmp);
	printf("package_sha256_mib_per_s %.0f MiB/s\n", (double)mib / sha_t[RUNS / 2]);
	printf("package_unpack_ms %.1f ms\n", unpack_t[RUNS / 2] * 1000);
	printf("package_unpack_mib_per_s %.0f MiB/s\n", (double)mib / unpack_t[RUNS / 2]);
	unlink(path);
	rmdir(dir);
	free(data);
	free(so);
	return 0;
}
