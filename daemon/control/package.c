/*
 * A downloaded plugin package (package.h): digest, signature, extraction and
 * the contents, each step refusing before the next one runs.
 */
#define _GNU_SOURCE
#include "package.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_check.h"
#include "manifest.h"
#include "pkg_file.h"
#include "xmalloc.h"

static int sha_chunk(void *ctx, const unsigned char *buf, size_t n)
{
	return crypto_hash_sha256_update(ctx, buf, n);
}

int package_sha256_file(const char *path, uint64_t max, unsigned char out[32],
			struct pkg_error *err)
{
	crypto_hash_sha256_state st;

	if (sodium_init() < 0) {
		pkg_error_set(err, "internal", NULL, "libsodium failed to initialise");
		return -1;
	}
	crypto_hash_sha256_init(&st);
	if (pkg_file_stream(path, max, sha_chunk, &st, err) < 0)
		return -1;
	crypto_hash_sha256_final(&st, out);
	return 0;
}

int package_verify(const char *path, const char *sha256_hex, const char *signature,
		   const struct package_trust *trust, uint64_t max_archive,
		   struct package_verified *out, struct pkg_error *err)
{
	unsigned char want[32], got[32];
	struct package_verified v = {0};
	size_t n = 0;
	const char *end = NULL;

	pkg_error_clear(err);
	if (max_archive == 0)
		max_archive = PACKAGE_MAX_ARCHIVE_DEFAULT;
	if (sodium_init() < 0) {
		pkg_error_set(err, "internal", NULL, "libsodium failed to initialise");
		return -1;
	}
	if (sha256_hex == NULL || strlen(sha256_hex) != 64 ||
	    sodium_hex2bin(want, sizeof want, sha256_hex, 64, NULL, &n, &end) != 0 ||
	    n != sizeof want) {
		pkg_error_set(err, "sha256", path, "the catalog's sha256 is not 64 hex digits");
		return -1;
	}
	if (package_sha256_file(path, max_archive, got, err) < 0)
		return -1;
	if (sodium_memcmp(want, got, sizeof want) != 0) {
		char hex[65];

		sodium_bin2hex(hex, sizeof hex, got, sizeof got);
		pkg_error_set(err, "sha256", path,
			      "the download's sha256 is %s, not the catalog's %s", hex, sha256_hex);
		return -1;
	}
	if (signature == NULL) {
		if (trust != NULL && trust->require_signatures) {
			pkg_error_set(err, "unsigned", path,
				      "the package is unsigned and signatures are required");
			return -1;
		}
	} else if (trust == NULL || trust->n_keys == 0) {
		if (trust != NULL && trust->require_signatures) {
			pkg_error_set(err, "signature-key", path,
				      "signatures are required but no trusted key is configured");
			return -1;
		}
	} else {
		if (minisign_verify_file(path, signature, trust->keys, trust->n_keys, max_archive,
					 &v.sig, err) < 0)
			return -1;
		v.signature_checked = true;
	}
	if (out != NULL)
		*out = v;
	return 0;
}

/* Reads manifest.json from the extracted directory; NULL with err. */
static struct manifest *read_manifest(int root, struct pkg_error *err)
{
	char why[512], *text;
	struct manifest *m;
	size_t len = 0;

	text = pkg_file_read_at(root, "manifest.json", (uint64_t)MANIFEST_MAX_BYTES, &len,
				"manifest", err);
	if (text == NULL)
		return NULL;
	m = manifest_parse(text, len, why, sizeof why);
	if (m == NULL)
		pkg_error_set(err, "manifest", "manifest.json", "%s", why);
	free(text);
	return m;
}

/* The contents of an extracted package: manifest, then the shared object. */
static int check_contents(const char *dir, const char *name, const char *version, uint32_t abi,
			  uint64_t max_so, struct pkg_error *err)
{
	struct manifest *m = NULL;
	int root, rc = -1;

	root = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0) {
		pkg_error_set(err, "io", dir, "open: %s", strerror(errno));
		return -1;
	}
	m = read_manifest(root, err);
	if (m == NULL)
		goto out;
	if (strcmp(m->name, name) != 0) {
		pkg_error_set(err, "manifest", "manifest.json",
			      "names plugin \"%s\", but the catalog entry is \"%s\"", m->name,
			      name);
		goto out;
	}
	if (strcmp(m->version, version) != 0) {
		pkg_error_set(err, "manifest", "manifest.json",
			      "gives version %s, but the catalog entry is %s", m->version, version);
		goto out;
	}
	rc = elf_check_plugin(root, m->entry_main, max_so, abi, err);
out:
	manifest_free(m);
	close(root);
	return rc;
}

char *package_unpack(const char *path, const char *parent, const char *name, const char *version,
		     uint32_t abi, const struct package_limits *limits, struct pkg_error *err)
{
	const struct pkg_archive_limits *al = limits ? &limits->archive : NULL;
	uint64_t max_so = al && al->max_file ? al->max_file : PKG_ARCHIVE_MAX_FILE;
	char *dir;

	dir = pkg_archive_extract(path, parent, al, err);
	if (dir == NULL)
		return NULL;
	if (check_contents(dir, name, version, abi, max_so, err) < 0) {
		pkg_tree_remove(dir);
		free(dir);
		return NULL;
	}
	return dir;
}

char *package_prepare(const char *path, const struct catalog_entry *e, const char *parent,
		      uint32_t abi, const struct package_trust *trust,
		      const struct package_limits *limits, struct package_verified *out,
		      struct pkg_error *err)
{
	pkg_error_clear(err);
	if (!catalog_entry_installable(e, (int)abi, catalog_host_arch(), err))
		return NULL;
	if (package_verify(path, e->sha256, e->signature, trust, limits ? limits->max_archive : 0,
			   out, err) < 0)
		return NULL;
	return package_unpack(path, parent, e->name, e->version, abi, limits, err);
}
