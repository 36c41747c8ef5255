/* Helpers the package tests share (pkgtest_util.h). */
#define _GNU_SOURCE
#include "pkgtest_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

char *pt_tempdir(void)
{
	const char *t = getenv("TMPDIR");
	char *dir;

	assert_true(asprintf(&dir, "%s/ss-pkgtest-XXXXXX", t && *t ? t : "/tmp") > 0);
	assert_non_null(mkdtemp(dir));
	return dir;
}

int pt_run(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	rc = system(cmd);
	free(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

void pt_rmtree(const char *path)
{
	if (path != NULL)
		assert_int_equal(pt_run("rm -rf '%s'", path), 0);
}

const char *pt_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		fail_msg("%s is not set: run this test through meson test", name);
	return v;
}

void pt_write(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

char *pt_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	assert_non_null(f);
	do {
		if (cap - n < 4096) {
			cap = cap * 2 + 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

struct lines {
	char **v;
	size_t n, cap;
};

static void add_line(struct lines *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap * 2 + 16;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		assert_non_null(l->v);
	}
	l->v[l->n++] = s;
}

static void walk(const char *root, const char *rel, struct lines *l)
{
	char *path;
	DIR *d;
	struct dirent *de;

	assert_true(asprintf(&path, "%s%s%s", root, *rel ? "/" : "", rel) > 0);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *sub, *full, *line, hex[65] = "-";
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		assert_true(asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) > 0);
		assert_true(asprintf(&full, "%s/%s", root, sub) > 0);
		assert_int_equal(lstat(full, &st), 0);
		if (S_ISREG(st.st_mode)) {
			unsigned char h[32];
			size_t n;
			char *data = pt_read(full, &n);

			crypto_hash_sha256(h, (unsigned char *)data, n);
			sodium_bin2hex(hex, sizeof hex, h, sizeof h);
			free(data);
		}
		assert_true(asprintf(&line, "%s %o %lld %s", sub, (unsigned)st.st_mode,
				     (long long)(S_ISDIR(st.st_mode) ? 0 : st.st_size), hex) > 0);
		add_line(l, line);
		if (S_ISDIR(st.st_mode))
			walk(root, sub, l);
		free(full);
		free(sub);
	}
	closedir(d);
	free(path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *pt_listing(const char *dir)
{
	struct lines l = {0};
	size_t total = 1;
	char *out;

	walk(dir, "", &l);
	qsort(l.v, l.n, sizeof *l.v, cmp_str);
	for (size_t i = 0; i < l.n; i++)
		total += strlen(l.v[i]) + 1;
	out = calloc(1, total);
	assert_non_null(out);
	for (size_t i = 0; i < l.n; i++) {
		strcat(out, l.v[i]);
		strcat(out, "\n");
		free(l.v[i]);
	}
	free(l.v);
	return out;
}

void pt_make_keys(const char *dir, struct minisign_key *k1, struct minisign_key *k2)
{
	struct minisign_key *k[2] = {k1, k2};
	struct pkg_error err;
	char *p;

	for (int i = 1; i <= 2; i++) {
		assert_int_equal(pt_run("cd '%s' && '%s' -G -W -p k%d.pub -s k%d.key >/dev/null",
					dir, pt_env("SS_MINISIGN"), i, i),
				 0);
		assert_true(asprintf(&p, "%s/k%d.pub", dir, i) > 0);
		if (!minisign_key_load(p, k[i - 1], &err))
			fail_msg("%s: %s", p, err.message);
		free(p);
	}
}
