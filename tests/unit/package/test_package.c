/*
 * Plugin packages end to end below the registry: the digest, the signature
 * policy, safe extraction of every hostile archive of issue 11 (made at test
 * time by make_archives.py) and the checks of the contents. For every refusal
 * the install directory is listed before and after and must be byte-for-byte
 * the same: nothing is left behind.
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

#include <streamspace/plugin.h>

#include "package.h"
#include "pkgtest_util.h"

struct fixture {
	char *dir;    /* everything of this run */
	char *arch;   /* the archives */
	char *parent; /* the install directory */
	struct minisign_key k1, k2;
};

/* Small limits so the bombs need only a few MiB: 1 MiB a file, 3 MiB in all. */
static const struct package_limits small = {
    .archive = {.max_file = 1 << 20, .max_total = 3 << 20},
};

static char *archive(const struct fixture *f, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s%s", f->arch, name, strchr(name, '.') ? "" : ".tar.gz") > 0);
	return p;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	umask(022);
	f->dir = pt_tempdir();
	assert_true(asprintf(&f->arch, "%s/archives", f->dir) > 0);
	assert_true(asprintf(&f->parent, "%s/install", f->dir) > 0);
	assert_int_equal(mkdir(f->arch, 0755), 0);
	assert_int_equal(pt_run("'%s' '%s' '%s' '%s' '%s' '%s'", pt_env("SS_PYTHON"),
				pt_env("SS_MAKE_ARCHIVES"), f->arch, pt_env("SS_PKGTEST_SO"),
				pt_env("SS_PKGTEST_ABI_SO"), pt_env("SS_PKGTEST_NODEF_SO")),
			 0);
	/* An install directory that already holds a plugin and a file. */
	assert_int_equal(pt_run("cd '%s' && mkdir -p install/hello/1.0.0 && echo '{}' > "
				"install/hello/1.0.0/manifest.json && echo keep > install/keep.txt",
				f->dir),
			 0);
	pt_make_keys(f->dir, &f->k1, &f->k2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pt_rmtree(f->dir);
	free(f->dir);
	free(f->arch);
	free(f->parent);
	free(f);
	return 0;
}

/* package_unpack must refuse the archive with check, leaving the parent as it was. */
static void refused(const struct fixture *f, const char *name, const char *check,
		    const char *subject)
{
	char *before = pt_listing(f->parent), *after, *path = archive(f, name);
	struct pkg_error err;
	char *dir;

	dir = package_unpack(path, f->parent, "pkgtest", "1.0.0", SS_SDK_ABI, &small, &err);
	if (dir != NULL)
		fail_msg("%s: accepted into %s", name, dir);
	if (strcmp(err.check, check) != 0)
		fail_msg("%s: check \"%s\" (%s), want \"%s\"", name, err.check, err.message, check);
	if (subject != NULL && strcmp(err.subject, subject) != 0)
		fail_msg("%s: subject \"%s\", want \"%s\"", name, err.subject, subject);
	assert_true(strlen(err.message) > strlen(err.subject) + 5);
	after = pt_listing(f->parent);
	if (strcmp(before, after) != 0)
		fail_msg("%s: the install directory changed:\n%s\n---\n%s", name, before, after);
	free(before);
	free(after);
	free(path);
}

static void test_hostile_archives(void **state)
{
	struct fixture *f = *state;

	refused(f, "traversal", "dotdot", "../evil.txt");
	refused(f, "traversal-inner", "dotdot", "docs/../../evil.txt");
	refused(f, "absolute", "absolute-path", "/tmp/ss-evil.txt");
	refused(f, "symlink", "symlink", "escape");
	refused(f, "symlink-inside", "symlink", "alias.so");
	refused(f, "hardlink", "hardlink", "passwd");
	refused(f, "device", "device", "null");
	refused(f, "blockdev", "device", "sda");
	refused(f, "fifo", "fifo", "pipe");
	refused(f, "setuid", "mode", "tool");
	refused(f, "setgid-dir", "mode", "d/");
	refused(f, "duplicate", "duplicate", "manifest.json");
	refused(f, "file-over-dir", "duplicate", "docs");
	refused(f, "dir-over-file", "duplicate", "README.md/inner.txt");
	refused(f, "many", "entries", NULL);
	refused(f, "deep", "depth", "a/b/c/d/e/f/g/h/i/deep.txt");
	refused(f, "control-name", "name", "bad\\x01name");
	refused(f, "non-utf8-name", "name", "bad\\xffname");
	refused(f, "big-file", "file-size", "big.bin");
	refused(f, "bomb", "archive-bomb", "z3.bin");
	refused(f, "truncated", "corrupt", NULL);
	refused(f, "truncated-trailer", "corrupt", NULL);
	refused(f, "truncated-crc", "corrupt", NULL);
	refused(f, "bad-crc", "corrupt", NULL);
	refused(f, "trailing-garbage", "corrupt", NULL);
	refused(f, "hidden-zeros", "archive-bomb", NULL);
	refused(f, "plain.tar", "format", NULL);
	refused(f, "garbage", "format", NULL);
	/* gzip, but of nothing: not a tar inside. */
	refused(f, "empty", "corrupt", NULL);
}

static void test_bad_contents(void **state)
{
	struct fixture *f = *state;

	refused(f, "no-manifest", "manifest", "manifest.json");
	refused(f, "manifest-dir", "manifest", "manifest.json");
	refused(f, "bad-manifest", "manifest", "manifest.json");
	refused(f, "other-name", "manifest", "manifest.json");
	refused(f, "other-version", "manifest", "manifest.json");
	refused(f, "no-so", "so", "pkgtest.so");
	refused(f, "not-elf", "elf", "pkgtest.so");
	refused(f, "wrong-arch", "arch", "pkgtest.so");
	refused(f, "bad-abi", "abi", "pkgtest.so");
	refused(f, "no-definition", "symbol", "pkgtest.so");
}

/* The messages say what failed, in words a user can act on. */
static void test_messages(void **state)
{
	struct fixture *f = *state;
	struct pkg_error err;
	char *p = archive(f, "other-name");

	assert_null(package_unpack(p, f->parent, "pkgtest", "1.0.0", SS_SDK_ABI, &small, &err));
	assert_string_equal(err.message, "manifest.json: names plugin \"other\", but the catalog "
					 "entry is \"pkgtest\"");
	free(p);
	p = archive(f, "bad-abi");
	assert_null(package_unpack(p, f->parent, "pkgtest", "1.0.0", SS_SDK_ABI, &small, &err));
	assert_non_null(strstr(err.message, "built for SDK ABI 99; this daemon runs SDK ABI 1"));
	free(p);
	p = archive(f, "wrong-arch");
	assert_null(package_unpack(p, f->parent, "pkgtest", "1.0.0", SS_SDK_ABI, &small, &err));
	assert_non_null(strstr(err.message, "this daemon runs on"));
	free(p);
	p = archive(f, "traversal");
	assert_null(package_unpack(p, f->parent, "pkgtest", "1.0.0", SS_SDK_ABI, &small, &err));
	assert_string_equal(err.message, "../evil.txt: a component is empty, \".\" or \"..\"");
	free(p);
	/* The .so's ABI is checked against the daemon's, not trusted from anywhere else. */
	p = archive(f, "good");
	assert_null(package_unpack(p, f->parent, "pkgtest", "1.0.0", 2, &small, &err));
	assert_string_equal(err.check, "abi");
	free(p);
}

static void test_good(void **state)
{
	struct fixture *f = *state;
	char *before = pt_listing(f->parent), *p, *dir, *listing, *dest, *after;
	struct pkg_error err;
	const char *base;

	for (int variant = 0; variant < 3; variant++) {
		static const char *names[] = {"good", "dotslash", "custom-main"};

		p = archive(f, names[variant]);
		dir = package_unpack(p, f->parent, "pkgtest", "1.0.0", SS_SDK_ABI, &small, &err);
		if (dir == NULL)
			fail_msg("%s: %s", names[variant], err.message);
		base = strrchr(dir, '/');
		assert_memory_equal(dir, f->parent, strlen(f->parent));
		assert_int_equal(base - dir, strlen(f->parent));
		assert_memory_equal(base, "/.pkg-", 6);
		listing = pt_listing(dir);
		assert_non_null(strstr(listing, "manifest.json 100644 "));
		if (variant == 0) {
			assert_non_null(strstr(listing, "pkgtest.so 100755 "));
			assert_non_null(strstr(listing, "README.md 100644 10 "));
			assert_non_null(strstr(listing, "docs 40755 0 -\n"));
			assert_non_null(strstr(listing, "docs/more 40755 0 -\n"));
			assert_non_null(strstr(listing, "docs/more/notes.txt 100644 7 "));
			/* Same filesystem: the registry's rename into place works. */
			assert_true(asprintf(&dest, "%s/pkgtest", f->parent) > 0);
			assert_int_equal(mkdir(dest, 0755), 0);
			free(dest);
			assert_true(asprintf(&dest, "%s/pkgtest/1.0.0", f->parent) > 0);
			assert_int_equal(rename(dir, dest), 0);
			after = pt_listing(dest);
			assert_string_equal(after, listing);
			free(after);
			assert_int_equal(pkg_tree_remove(dest), 0);
			free(dest);
			assert_true(asprintf(&dest, "%s/pkgtest", f->parent) > 0);
			assert_int_equal(rmdir(dest), 0);
			free(dest);
		} else {
			assert_int_equal(pkg_tree_remove(dir), 0);
		}
		free(listing);
		free(dir);
		free(p);
	}
	/* Default limits take the 1 MiB file; its gzip data inflates past a buffer at the end. */
	p = archive(f, "big-file");
	dir = package_unpack(p, f->parent, "pkgtest", "1.0.0", SS_SDK_ABI, NULL, &err);
	if (dir == NULL)
		fail_msg("big-file: %s", err.message);
	listing = pt_listing(dir);
	assert_non_null(strstr(listing, "big.bin 100644 1048577 "));
	assert_int_equal(pkg_tree_remove(dir), 0);
	free(listing);
	free(dir);
	free(p);
	after = pt_listing(f->parent);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static char *sha256sum(const char *path)
{
	char *cmd, *out = calloc(1, 65);
	FILE *pipe;

	assert_true(asprintf(&cmd, "sha256sum '%s'", path) > 0);
	pipe = popen(cmd, "r");
	assert_non_null(pipe);
	assert_int_equal(fread(out, 1, 64, pipe), 64);
	pclose(pipe);
	free(cmd);
	return out;
}

static void test_sha256(void **state)
{
	struct fixture *f = *state;
	char *p = archive(f, "good"), *want = sha256sum(p), hex[65], *link;
	unsigned char got[32];
	struct pkg_error err;

	assert_int_equal(package_sha256_file(p, 1 << 30, got, &err), 0);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", got[i]);
	assert_string_equal(hex, want);
	assert_int_equal(package_sha256_file(p, 100, got, &err), -1);
	assert_string_equal(err.check, "file-size");
	/* A symbolic link to the download is not followed. */
	assert_true(asprintf(&link, "%s/link.tar.gz", f->dir) > 0);
	assert_int_equal(symlink(p, link), 0);
	assert_int_equal(package_sha256_file(link, 1 << 30, got, &err), -1);
	assert_string_equal(err.check, "io");
	assert_int_equal(unlink(link), 0);
	free(link);
	free(want);
	free(p);
}

/* Signs archive name with key k<n> and returns the signature text. */
static char *sign(const struct fixture *f, const char *name, int n)
{
	char *p = archive(f, name), *sig, *text;

	assert_true(asprintf(&sig, "%s/%s.k%d.minisig", f->dir, name, n) > 0);
	assert_int_equal(pt_run("'%s' -S -s '%s/k%d.key' -m '%s' -x '%s' >/dev/null",
				pt_env("SS_MINISIGN"), f->dir, n, p, sig),
			 0);
	text = pt_read(sig, NULL);
	free(sig);
	free(p);
	return text;
}

/* A catalog entry for archive name, with its real digest unless sha is given. */
static void entry(const struct fixture *f, struct catalog_entry *e, const char *name,
		  const char *sha, int abi, const char *arch, const char *sig)
{
	char *p = archive(f, name), *real = sha256sum(p), *text, why[256];
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "name", json_object_new_string("pkgtest"));
	json_object_object_add(obj, "version", json_object_new_string("1.0.0"));
	json_object_object_add(obj, "downloadUrl", json_object_new_string("p/plugin.tar.gz"));
	json_object_object_add(obj, "sha256", json_object_new_string(sha ? sha : real));
	json_object_object_add(obj, "abi", json_object_new_int(abi));
	json_object_object_add(obj, "arch", json_object_new_string(arch));
	if (sig)
		json_object_object_add(obj, "signature", json_object_new_string(sig));
	text = strdup(json_object_to_json_string(obj));
	if (!catalog_entry_parse(obj, e, why, sizeof why))
		fail_msg("%s: %s", text, why);
	json_object_put(obj);
	free(text);
	free(real);
	free(p);
}

/* package_prepare of name with entry e and trust t: refused with check, parent unchanged. */
static void prepare_refused(const struct fixture *f, const char *name,
			    const struct catalog_entry *e, const struct package_trust *t,
			    const char *check)
{
	char *before = pt_listing(f->parent), *after, *p = archive(f, name), *dir;
	struct pkg_error err;

	dir = package_prepare(p, e, f->parent, SS_SDK_ABI, t, &small, NULL, &err);
	if (dir != NULL)
		fail_msg("%s: accepted", name);
	if (strcmp(err.check, check) != 0)
		fail_msg("%s: check \"%s\" (%s), want \"%s\"", name, err.check, err.message, check);
	after = pt_listing(f->parent);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(p);
}

/* prepare_refused for an entry of archive name made from the other arguments (see entry). */
static void entry_refused(const struct fixture *f, const char *name, const char *sha, int abi,
			  const char *arch, const char *sig, const struct package_trust *t,
			  const char *check)
{
	struct catalog_entry e;

	entry(f, &e, name, sha, abi, arch, sig);
	prepare_refused(f, name, &e, t, check);
	catalog_entry_clear(&e);
}

static void test_prepare(void **state)
{
	struct fixture *f = *state;
	const char *host = catalog_host_arch();
	const char *other = strcmp(host, "aarch64") == 0 ? "x86_64" : "aarch64";
	char *sig1 = sign(f, "good", 1), *sig2 = sign(f, "good", 2),
	     *sig_other = sign(f, "bad-abi", 1);
	struct minisign_key keys[2] = {f->k2, f->k1};
	struct package_trust none = {0}, require = {.require_signatures = true};
	struct package_trust trust = {.keys = keys, .n_keys = 2};
	struct package_trust trust_k1_required = {
	    .keys = &f->k1, .n_keys = 1, .require_signatures = true};
	struct package_verified v;
	struct catalog_entry e;
	struct pkg_error err;
	char *p = archive(f, "good"), *dir;

	/* Unsigned, no policy: installs. */
	entry(f, &e, "good", NULL, SS_SDK_ABI, host, NULL);
	dir = package_prepare(p, &e, f->parent, SS_SDK_ABI, &none, &small, &v, &err);
	if (dir == NULL)
		fail_msg("%s", err.message);
	assert_false(v.signature_checked);
	assert_int_equal(pkg_tree_remove(dir), 0);
	free(dir);
	prepare_refused(f, "good", &e, &require, "unsigned");
	prepare_refused(f, "good", &e, &trust_k1_required, "unsigned");
	catalog_entry_clear(&e);

	/* Signed with a trusted key, prehashed (minisign's default). */
	entry(f, &e, "good", NULL, SS_SDK_ABI, host, sig1);
	dir = package_prepare(p, &e, f->parent, SS_SDK_ABI, &trust_k1_required, &small, &v, &err);
	if (dir == NULL)
		fail_msg("%s", err.message);
	assert_true(v.signature_checked);
	{
		char hex[17];

		minisign_key_id_hex(f->k1.id, hex);
		assert_string_equal(v.sig.key_id, hex);
	}
	assert_non_null(strstr(v.sig.trusted_comment, "file:good.tar.gz"));
	assert_int_equal(pkg_tree_remove(dir), 0);
	free(dir);
	/* Signed, but no key to check it with: noted, refused only when signatures are required. */
	dir = package_prepare(p, &e, f->parent, SS_SDK_ABI, &none, &small, &v, &err);
	assert_non_null(dir);
	assert_false(v.signature_checked);
	assert_int_equal(pkg_tree_remove(dir), 0);
	free(dir);
	prepare_refused(f, "good", &e, &require, "signature-key");
	catalog_entry_clear(&e);

	/* Signed by a key nobody trusts. */
	entry_refused(f, "good", NULL, SS_SDK_ABI, host, sig2, &trust_k1_required, "signature-key");
	/* A good signature of another file. */
	entry_refused(f, "good", NULL, SS_SDK_ABI, host, sig_other, &trust, "signature");
	/* The catalog's digest is not the download's. */
	entry_refused(f, "good", "00000000000000000000000000000000000000000000000000000000000000ff",
		      SS_SDK_ABI, host, sig1, &trust, "sha256");
	/* The entry says another ABI or machine: refused before anything is read. */
	entry_refused(f, "good", NULL, SS_SDK_ABI + 1, host, NULL, &none, "abi");
	entry_refused(f, "good", NULL, SS_SDK_ABI, other, NULL, &none, "arch");
	/* The entry lies about the .so: the file's own ABI and machine are checked. */
	entry_refused(f, "bad-abi", NULL, SS_SDK_ABI, host, NULL, &none, "abi");
	entry_refused(f, "wrong-arch", NULL, SS_SDK_ABI, host, NULL, &none, "arch");
	/* A hostile archive with a valid digest and signature is still refused. */
	free(sig1);
	sig1 = sign(f, "symlink", 1);
	entry_refused(f, "symlink", NULL, SS_SDK_ABI, host, sig1, &trust_k1_required, "symlink");

	free(p);
	free(sig1);
	free(sig2);
	free(sig_other);
}

/* The entry for name in the catalog.json below dir, parsed and chosen as the registry will. */
static struct catalog *load_catalog(const char *dir)
{
	char *path, *text;
	size_t len;
	struct pkg_error err;
	struct catalog *c;

	assert_true(asprintf(&path, "%s/catalog.json", dir) > 0);
	text = pt_read(path, &len);
	c = catalog_parse(text, len, NULL, &err);
	if (c == NULL)
		fail_msg("%s: %s", path, err.message);
	if (c->n_skipped != 0)
		fail_msg("%s: entry %zu: %s", path, c->problems[0].index, c->problems[0].message);
	free(text);
	free(path);
	return c;
}

/* Installs what catalog dir offers for name into the fixture's parent, then removes it. */
static void install_from(const struct fixture *f, const char *dir, const struct catalog *c,
			 const char *name, const struct package_trust *t, const char *want_file)
{
	const struct catalog_entry *e;
	struct package_verified v;
	struct pkg_error err;
	char *path, *got, *listing;

	e = catalog_select(c->entries, c->n_entries, name, NULL, SS_SDK_ABI, catalog_host_arch(),
			   &err);
	if (e == NULL)
		fail_msg("%s: %s", name, err.message);
	path = catalog_resolve_url(dir, e->download_url);
	got = package_prepare(path, e, f->parent, SS_SDK_ABI, t, NULL, &v, &err);
	if (got == NULL)
		fail_msg("%s: %s", path, err.message);
	assert_int_equal(v.signature_checked, t != NULL && t->n_keys > 0);
	listing = pt_listing(got);
	if (want_file != NULL && strstr(listing, want_file) == NULL)
		fail_msg("%s: no %s in\n%s", name, want_file, listing);
	assert_int_equal(pkg_tree_remove(got), 0);
	free(listing);
	free(got);
	free(path);
}

/* scripts/package-plugin makes packages and entries that this code accepts. */
static void test_package_plugin_script(void **state)
{
	struct fixture *f = *state;
	struct package_trust t = {.keys = &f->k1, .n_keys = 1, .require_signatures = true};
	char *src, *out, *out2, *a, *b, *sa, *sb;
	struct catalog *c;

	assert_true(asprintf(&src, "%s/src", f->dir) > 0);
	assert_true(asprintf(&out, "%s/dist", f->dir) > 0);
	assert_true(asprintf(&out2, "%s/dist2", f->dir) > 0);
	assert_int_equal(pt_run("mkdir -p '%s' && cd '%s' && cp '%s' pkgtest.so && printf "
				"'{\"name\":\"pkgtest\",\"version\":\"1.0.0\",\"icon\":"
				"\"icon.png\"}' > manifest.json && echo '# pkgtest' > README.md && "
				"printf 'PNG' > icon.png",
				src, src, pt_env("SS_PKGTEST_SO")),
			 0);
	assert_int_equal(pt_run("'%s' '%s/scripts/package-plugin' '%s' --out '%s' --catalog "
				"--key '%s/k1.key' >/dev/null",
				pt_env("SS_PYTHON"), pt_env("SS_SOURCE_ROOT"), src, out, f->dir),
			 0);
	c = load_catalog(out);
	assert_int_equal(c->n_entries, 1);
	assert_int_equal(c->entries[0].abi, SS_SDK_ABI);
	assert_string_equal(c->entries[0].arch, catalog_host_arch());
	assert_non_null(c->entries[0].signature);
	assert_string_equal(c->entries[0].icon_url, "pkgtest/1.0.0/icon.png");
	install_from(f, out, c, "pkgtest", &t, "icon.png 100644 3 ");
	install_from(f, out, c, "pkgtest", NULL, "README.md 100644 10 ");
	catalog_free(c);
	/* The same input gives the same bytes, signed or not. */
	assert_int_equal(pt_run("'%s' '%s/scripts/package-plugin' '%s' --out '%s' >/dev/null",
				pt_env("SS_PYTHON"), pt_env("SS_SOURCE_ROOT"), src, out2),
			 0);
	assert_true(asprintf(&a, "%s/pkgtest/1.0.0/plugin.tar.gz", out) > 0);
	assert_true(asprintf(&b, "%s/pkgtest/1.0.0/plugin.tar.gz", out2) > 0);
	sa = sha256sum(a);
	sb = sha256sum(b);
	assert_string_equal(sa, sb);
	/* Debian's minisign accepts the signature the script made. */
	assert_int_equal(
	    pt_run("'%s' -V -q -p '%s/k1.pub' -m '%s'", pt_env("SS_MINISIGN"), f->dir, a), 0);
	free(sa);
	free(sb);
	free(a);
	free(b);
	free(src);
	free(out);
	free(out2);
}

/* The catalog meson builds of the plugins we ship: each installs. */
static void test_shipped_catalog(void **state)
{
	struct fixture *f = *state;
	char *dir;
	struct catalog *c;

	assert_true(asprintf(&dir, "%s/catalog", pt_env("SS_BUILD_ROOT")) > 0);
	c = load_catalog(dir);
	assert_true(c->n_entries >= 3);
	install_from(f, dir, c, "hello", NULL, "hello.so 100755 ");
	install_from(f, dir, c, "echo", NULL, "echo.so 100755 ");
	install_from(f, dir, c, "counter", NULL, "counter.so 100755 ");
	catalog_free(c);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostile_archives),
	    cmocka_unit_test(test_bad_contents),
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_sha256),
	    cmocka_unit_test(test_prepare),
	    cmocka_unit_test(test_package_plugin_script),
	    cmocka_unit_test(test_shipped_catalog),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
