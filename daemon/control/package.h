/*
 * A downloaded plugin package, from catalog entry to a directory ready to be
 * renamed into <install-dir>/<name>/<version>/: the digest, the signature,
 * safe extraction (pkg_archive.h) and the contents (manifest, shared object).
 *
 * The registry downloads the archive, then on its worker thread calls
 * package_prepare() (or package_verify() and package_unpack()) and, back on
 * the reactor, renames the directory it returned into place, or removes it
 * with pkg_tree_remove() when anything after it fails. These functions keep
 * no global state, never log and touch nothing but the temporary directory
 * they make; every failure removes it and is described in struct pkg_error,
 * whose check is one of:
 *
 *   catalog entry   sha256, download, abi, arch (catalog_entry_installable)
 *   digest          sha256 (the download is not what the catalog says)
 *   signature       unsigned (signatures required), signature-key (no
 *                   trusted key has the signer's id, or none is configured
 *                   while signatures are required), signature (malformed or
 *                   not verifying)
 *   archive         format, corrupt, name, absolute-path, dotdot, depth,
 *                   symlink, hardlink, device, fifo, socket, type, mode,
 *                   duplicate, entries, file-size, archive-bomb (pkg_archive.h)
 *   contents        manifest, so, elf, arch, symbol, abi (elf_check.h)
 *   environment     io, internal
 */
#ifndef SS_PACKAGE_H
#define SS_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog_entry.h"
#include "minisign.h"
#include "pkg_archive.h"
#include "pkg_error.h"

#define PACKAGE_MAX_ARCHIVE_DEFAULT (64ull * 1024 * 1024)

struct package_limits {
	uint64_t max_archive; /* the downloaded file; 0 = PACKAGE_MAX_ARCHIVE_DEFAULT */
	struct pkg_archive_limits archive;
};

/* The operator's signature policy: --trusted-key (repeatable), --require-signatures. */
struct package_trust {
	const struct minisign_key *keys;
	size_t n_keys;
	bool require_signatures;
};

/* What package_verify found, for the install's record and log line. */
struct package_verified {
	bool signature_checked;	    /* false: unsigned, or signed but no key configured */
	struct minisign_result sig; /* when checked */
};

/*
 * The SHA-256 of the regular file at path (at most max bytes, read in
 * chunks), into out. 0, or -1 with err ("io", "file-size").
 */
int package_sha256_file(const char *path, uint64_t max, unsigned char out[32],
			struct pkg_error *err);

/*
 * Checks the archive at path against the catalog's sha256 (64 hex digits;
 * compared in constant time) and then its signature text (NULL when
 * unsigned) against trust: with trusted keys, a signature must verify with
 * one of them; without any, a signature cannot be checked and is noted as
 * such. require_signatures refuses an archive that is unsigned or whose
 * signature could not be checked. 0, or -1 with err: "sha256", "unsigned",
 * "signature", "signature-key", "io", "file-size". out may be NULL, and
 * trust NULL is no keys and nothing required. max_archive 0 is
 * PACKAGE_MAX_ARCHIVE_DEFAULT.
 */
int package_verify(const char *path, const char *sha256_hex, const char *signature,
		   const struct package_trust *trust, uint64_t max_archive,
		   struct package_verified *out, struct pkg_error *err);

/*
 * Extracts the archive at path into a new directory inside parent and
 * validates what came out: manifest.json a regular file of at most
 * MANIFEST_MAX_BYTES that manifest_parse accepts, naming plugin name at
 * version; the shared object its entrypoints.main names (default
 * <name>.so) an ELF shared object of this machine that defines the SDK's
 * definition symbol for abi (elf_check.h). Returns the directory's path
 * (the caller frees it, and renames or removes the directory), or NULL with
 * err ("manifest", "so", "elf", "arch", "symbol", "abi", or an extraction
 * check) and nothing left behind. limits may be NULL for the defaults.
 */
char *package_unpack(const char *path, const char *parent, const char *name, const char *version,
		     uint32_t abi, const struct package_limits *limits, struct pkg_error *err);

/*
 * The whole check of an install, in order: e is installable here
 * (catalog_entry_installable with abi and catalog_host_arch()), the
 * archive's digest and signature (package_verify), then package_unpack for
 * e's name and version. The result is package_unpack's.
 */
char *package_prepare(const char *path, const struct catalog_entry *e, const char *parent,
		      uint32_t abi, const struct package_trust *trust,
		      const struct package_limits *limits, struct package_verified *out,
		      struct pkg_error *err);

#endif
