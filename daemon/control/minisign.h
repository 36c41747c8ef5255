/*
 * Verification of minisign signatures (https://jedisct1.github.io/minisign/)
 * with libsodium, so plugin authors sign with the stock `minisign` tool.
 *
 * A public key file is an "untrusted comment:" line and the base64 of
 * "Ed" || key id (8 bytes) || Ed25519 public key (32 bytes). A signature
 * (.minisig) is four lines: an untrusted comment; the base64 of the
 * algorithm ("Ed": Ed25519 over the file itself, minisign -l; "ED": over the
 * BLAKE2b-512 of the file, the default of minisign 0.10 and later, Debian
 * 12's 0.11 included) || key id || signature (64 bytes); "trusted comment: "
 * and its text; the base64 of the global signature over signature ||
 * trusted comment text. Both signatures are verified, with the trusted key
 * whose id the signature names.
 *
 * No global state, no logging: safe on a worker thread (see pkg_error.h).
 */
#ifndef SS_MINISIGN_H
#define SS_MINISIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkg_error.h"

/* The longest signature text accepted (four lines, comments included). */
#define MINISIGN_SIG_MAX 2048
#define MINISIGN_KEY_FILE_MAX 4096
#define MINISIGN_TRUSTED_MAX 1024

struct minisign_key {
	uint8_t id[8];
	uint8_t pk[32];
};

/*
 * A public key from a key file's text (comment line and key line) or from
 * the bare base64 line (minisign -P). false with err ("key").
 */
bool minisign_key_parse(const char *text, size_t len, struct minisign_key *key,
			struct pkg_error *err);
/* The same from a file of at most MINISIGN_KEY_FILE_MAX bytes. */
bool minisign_key_load(const char *path, struct minisign_key *key, struct pkg_error *err);

/* A key id as minisign prints it: 16 upper-case hex digits (NUL included). */
void minisign_key_id_hex(const uint8_t id[8], char out[17]);

/* Whether text has the shape of a signature (for catalog validation). */
bool minisign_signature_wellformed(const char *text, char *why, size_t whylen);

/* What a verified signature says. */
struct minisign_result {
	char key_id[17]; /* the key that verified it, as minisign prints it */
	char trusted_comment[MINISIGN_TRUSTED_MAX + 1];
};

/*
 * Verifies the signature text sig over the file at path with whichever of
 * the n keys has the signature's key id. A legacy ("Ed") signature needs the
 * whole file in memory, a prehashed one is read in chunks; either way a file
 * over max_bytes is refused. 0 with res filled (res may be NULL), or -1
 * with err: "signature-key" (no trusted key has that id), "signature"
 * (malformed, or a signature that does not verify: the message says which
 * of the two), "io" or "file-size".
 */
int minisign_verify_file(const char *path, const char *sig, const struct minisign_key *keys,
			 size_t n, uint64_t max_bytes, struct minisign_result *res,
			 struct pkg_error *err);

#endif
