/*
 * minisign verification against signatures made by Debian's minisign: a key
 * pair generated for the test (no password), files signed prehashed (the
 * default of minisign 0.11) and legacy (-l), then every way a signature can
 * be wrong.
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

#include "minisign.h"
#include "pkgtest_util.h"

struct fixture {
	char *dir;
	struct minisign_key k1, k2;
	char *file;	  /* the signed file */
	char *sig_hashed; /* its signature text, prehashed */
	char *sig_legacy; /* and legacy */
};

static char *path_in(const struct fixture *f, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", f->dir, name) > 0);
	return p;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	const char *ms = pt_env("SS_MINISIGN");
	char *p;

	f->dir = pt_tempdir();
	pt_make_keys(f->dir, &f->k1, &f->k2);
	f->file = path_in(f, "plugin.tar.gz");
	pt_write(f->file, "pretend this is a package\n", 26);
	assert_int_equal(pt_run("cd '%s' && '%s' -S -s k1.key -m plugin.tar.gz -x hashed.minisig "
				"-t 'name:pkgtest version:1.0.0' >/dev/null",
				f->dir, ms),
			 0);
	assert_int_equal(pt_run("cd '%s' && '%s' -S -l -s k1.key -m plugin.tar.gz "
				"-x legacy.minisig >/dev/null",
				f->dir, ms),
			 0);
	p = path_in(f, "hashed.minisig");
	f->sig_hashed = pt_read(p, NULL);
	free(p);
	p = path_in(f, "legacy.minisig");
	f->sig_legacy = pt_read(p, NULL);
	free(p);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pt_rmtree(f->dir);
	free(f->dir);
	free(f->file);
	free(f->sig_hashed);
	free(f->sig_legacy);
	free(f);
	return 0;
}

static int verify(const struct fixture *f, const char *sig, const struct minisign_key *keys,
		  size_t n, struct minisign_result *res, struct pkg_error *err)
{
	return minisign_verify_file(f->file, sig, keys, n, 1 << 20, res, err);
}

/* The algorithm bytes tell the two formats apart: "ED" prehashed, "Ed" legacy. */
static void test_formats(void **state)
{
	struct fixture *f = *state;
	char *line = strchr(f->sig_hashed, '\n') + 1;

	/* base64 of "ED..." starts "RU", of "Ed..." "RW". */
	assert_memory_equal(line, "RU", 2);
	line = strchr(f->sig_legacy, '\n') + 1;
	assert_memory_equal(line, "RW", 2);
}

static void test_good(void **state)
{
	struct fixture *f = *state;
	struct minisign_key both[2] = {f->k2, f->k1};
	struct minisign_result res;
	struct pkg_error err;
	char hex[17];

	for (int legacy = 0; legacy <= 1; legacy++) {
		const char *sig = legacy ? f->sig_legacy : f->sig_hashed;

		if (verify(f, sig, &f->k1, 1, &res, &err) != 0)
			fail_msg("%s: %s", legacy ? "legacy" : "prehashed", err.message);
		/* Several trusted keys: the one with the signature's id verifies. */
		assert_int_equal(verify(f, sig, both, 2, &res, &err), 0);
		minisign_key_id_hex(f->k1.id, hex);
		assert_string_equal(res.key_id, hex);
	}
	assert_int_equal(verify(f, f->sig_hashed, &f->k1, 1, &res, &err), 0);
	assert_string_equal(res.trusted_comment, "name:pkgtest version:1.0.0");
	/* NULL result is fine. */
	assert_int_equal(verify(f, f->sig_hashed, &f->k1, 1, NULL, &err), 0);
}

/* The key id minisign prints is the one we read. */
static void test_key_id(void **state)
{
	struct fixture *f = *state;
	char *pub = path_in(f, "k1.pub"), *text = pt_read(pub, NULL), hex[17];

	minisign_key_id_hex(f->k1.id, hex);
	assert_non_null(strstr(text, hex));
	free(text);
	free(pub);
}

static void test_tampered_file(void **state)
{
	struct fixture *f = *state;
	struct pkg_error err;
	char *saved = pt_read(f->file, NULL);

	pt_write(f->file, "pretend this is a packagE\n", 26);
	for (int legacy = 0; legacy <= 1; legacy++) {
		assert_int_equal(
		    verify(f, legacy ? f->sig_legacy : f->sig_hashed, &f->k1, 1, NULL, &err), -1);
		assert_string_equal(err.check, "signature");
		assert_non_null(strstr(err.message, "does not match the file"));
		assert_non_null(strstr(err.message, legacy ? "legacy" : "prehashed"));
	}
	pt_write(f->file, saved, strlen(saved));
	free(saved);
	assert_int_equal(verify(f, f->sig_hashed, &f->k1, 1, NULL, &err), 0);
}

static void test_tampered_trusted_comment(void **state)
{
	struct fixture *f = *state;
	struct pkg_error err;
	char *sig = strdup(f->sig_hashed);
	char *tc = strstr(sig, "trusted comment: name:pkgtest");

	assert_non_null(tc);
	tc[strlen("trusted comment: name:")] = 'X';
	assert_int_equal(verify(f, sig, &f->k1, 1, NULL, &err), -1);
	assert_string_equal(err.check, "signature");
	assert_non_null(strstr(err.message, "trusted comment was altered"));
	free(sig);
}

static void test_wrong_key(void **state)
{
	struct fixture *f = *state;
	struct minisign_key forged = f->k2;
	struct pkg_error err;
	char hex[17];

	/* Only the other key is trusted: the signature's key id is unknown. */
	assert_int_equal(verify(f, f->sig_hashed, &f->k2, 1, NULL, &err), -1);
	assert_string_equal(err.check, "signature-key");
	minisign_key_id_hex(f->k1.id, hex);
	assert_non_null(strstr(err.message, hex));
	assert_int_equal(verify(f, f->sig_hashed, NULL, 0, NULL, &err), -1);
	assert_string_equal(err.check, "signature-key");
	/* Another key that claims the signer's id: the signature does not verify. */
	memcpy(forged.id, f->k1.id, sizeof forged.id);
	for (int legacy = 0; legacy <= 1; legacy++) {
		assert_int_equal(
		    verify(f, legacy ? f->sig_legacy : f->sig_hashed, &forged, 1, NULL, &err), -1);
		assert_string_equal(err.check, "signature");
	}
}

static void test_garbage(void **state)
{
	struct fixture *f = *state;
	struct pkg_error err;
	char *sig;
	static const char *bad[] = {
	    "",
	    "garbage",
	    "untrusted comment: x\nRUQ\ntrusted comment: x\nAAAA\n",
	    "untrusted comment: x\n\ntrusted comment: x\n\n",
	    "comment: x\nRUQ\ntrusted comment: x\nAAAA\n",
	};
	char big[MINISIGN_SIG_MAX + 10];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(verify(f, bad[i], &f->k1, 1, NULL, &err), -1);
		assert_string_equal(err.check, "signature");
		assert_false(minisign_signature_wellformed(bad[i], err.message, 64));
	}
	/* A fifth line, a bad algorithm, a short global signature, and the size bound. */
	assert_true(asprintf(&sig, "%sextra\n", f->sig_hashed) > 0);
	assert_int_equal(verify(f, sig, &f->k1, 1, NULL, &err), -1);
	free(sig);
	sig = strdup(f->sig_hashed);
	memcpy(strchr(sig, '\n') + 1, "RX", 2); /* "E^" */
	assert_int_equal(verify(f, sig, &f->k1, 1, NULL, &err), -1);
	assert_string_equal(err.check, "signature");
	free(sig);
	sig = strdup(f->sig_hashed);
	sig[strlen(sig) - 6] = '\n';
	sig[strlen(sig) - 5] = '\0';
	assert_int_equal(verify(f, sig, &f->k1, 1, NULL, &err), -1);
	assert_string_equal(err.check, "signature");
	free(sig);
	memset(big, 'A', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_false(minisign_signature_wellformed(big, err.message, 64));
	/* CRLF line ends are accepted, as minisign writes them on Windows. */
	sig = calloc(1, strlen(f->sig_hashed) * 2 + 1);
	for (char *s = f->sig_hashed, *o = sig; *s; s++) {
		if (*s == '\n')
			*o++ = '\r';
		*o++ = *s;
	}
	assert_int_equal(verify(f, sig, &f->k1, 1, NULL, &err), 0);
	free(sig);
}

static void test_file_limits(void **state)
{
	struct fixture *f = *state;
	struct pkg_error err;
	char *missing = path_in(f, "missing");

	assert_int_equal(minisign_verify_file(f->file, f->sig_legacy, &f->k1, 1, 10, NULL, &err),
			 -1);
	assert_string_equal(err.check, "file-size");
	assert_int_equal(minisign_verify_file(f->file, f->sig_hashed, &f->k1, 1, 10, NULL, &err),
			 -1);
	assert_string_equal(err.check, "file-size");
	assert_int_equal(
	    minisign_verify_file(missing, f->sig_hashed, &f->k1, 1, 1 << 20, NULL, &err), -1);
	assert_string_equal(err.check, "io");
	free(missing);
}

static void test_key_parse(void **state)
{
	struct fixture *f = *state;
	char *pub = path_in(f, "k1.pub"), *text = pt_read(pub, NULL);
	char *line = strchr(text, '\n') + 1;
	struct minisign_key k;
	struct pkg_error err;

	/* The bare key line, as minisign -P takes it. */
	assert_true(minisign_key_parse(line, strlen(line), &k, &err));
	assert_memory_equal(&k, &f->k1, sizeof k);
	assert_false(minisign_key_parse("", 0, &k, &err));
	assert_string_equal(err.check, "key");
	assert_false(minisign_key_parse("untrusted comment: x\nAAAA\n", 26, &k, &err));
	assert_false(minisign_key_parse("a\nb\nc\n", 6, &k, &err));
	/* A secret key file is not a public key. */
	free(text);
	free(pub);
	pub = path_in(f, "k1.key");
	assert_false(minisign_key_load(pub, &k, &err));
	assert_string_equal(err.check, "key");
	free(pub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_key_id),
	    cmocka_unit_test(test_tampered_file),
	    cmocka_unit_test(test_tampered_trusted_comment),
	    cmocka_unit_test(test_wrong_key),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_file_limits),
	    cmocka_unit_test(test_key_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
