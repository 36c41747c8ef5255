/*
 * minisign verification (minisign.h). The formats follow minisign's own
 * source (minisign.c, struct SigStruct/PubkeyStruct) and its documentation;
 * the tests check them against signatures made by Debian's minisign.
 */
#include "minisign.h"

#include <sodium.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg_file.h"
#include "xmalloc.h"

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define KEY_BIN_LEN (2 + 8 + crypto_sign_PUBLICKEYBYTES)
#define SIG_BIN_LEN (2 + 8 + crypto_sign_BYTES)

struct line {
	const char *s;
	size_t len;
};

struct sig {
	uint8_t alg[2];
	uint8_t id[8];
	uint8_t sig[crypto_sign_BYTES];
	uint8_t global[crypto_sign_BYTES];
	struct line trusted; /* the text after TRUSTED_PREFIX */
};

/*
 * Splits text into at most max lines at '\n' (a '\r' before it is dropped,
 * one final newline is allowed). Returns the count, or max + 1 when there
 * are more.
 */
static size_t split_lines(const char *text, size_t len, struct line *out, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		size_t end;

		if (i < len && text[i] != '\n')
			continue;
		if (i == len && start == len)
			break; /* nothing after the final newline */
		if (n == max)
			return max + 1;
		end = i;
		if (end > start && text[end - 1] == '\r')
			end--;
		out[n++] = (struct line){text + start, end - start};
		start = i + 1;
	}
	return n;
}

static bool has_prefix(struct line l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l.len >= n && memcmp(l.s, prefix, n) == 0;
}

/* Decodes a whole line of standard base64 into exactly want bytes. */
static bool b64_exact(struct line l, uint8_t *out, size_t want)
{
	size_t got = 0;
	const char *end = NULL;

	if (sodium_init() < 0)
		return false;
	if (sodium_base642bin(out, want, l.s, l.len, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return got == want && end == l.s + l.len;
}

void minisign_key_id_hex(const uint8_t id[8], char out[17])
{
	/*
	 * minisign prints the id as a little-endian 64-bit number with "%" PRIX64:
	 * no leading zeros, so an id whose top byte is below 0x10 has fewer than
	 * 16 digits (zero-padding it named a key the operator could not find).
	 */
	uint64_t v = 0;

	for (size_t i = 0; i < 8; i++)
		v |= (uint64_t)id[i] << (8 * i);
	snprintf(out, 17, "%" PRIX64, v);
}

bool minisign_key_parse(const char *text, size_t len, struct minisign_key *key,
			struct pkg_error *err)
{
	struct line lines[2];
	uint8_t bin[KEY_BIN_LEN];
	size_t n = split_lines(text, len, lines, 2);
	struct line keyline;

	if (n == 2 && has_prefix(lines[0], UNTRUSTED_PREFIX))
		keyline = lines[1];
	else if (n == 1)
		keyline = lines[0];
	else {
		pkg_error_set(err, "key", NULL,
			      "a public key is an \"untrusted comment:\" line and a key line");
		return false;
	}
	if (!b64_exact(keyline, bin, sizeof bin) || bin[0] != 'E' || bin[1] != 'd') {
		pkg_error_set(err, "key", NULL,
			      "the key line is not the base64 of an Ed25519 minisign key");
		return false;
	}
	memcpy(key->id, bin + 2, sizeof key->id);
	memcpy(key->pk, bin + 10, sizeof key->pk);
	return true;
}

/* Collects a key file into a buffer. */
struct collect {
	char buf[MINISIGN_KEY_FILE_MAX];
	size_t len;
};

static int collect_chunk(void *ctx, const unsigned char *buf, size_t n)
{
	struct collect *c = ctx;

	if (n > sizeof c->buf - c->len)
		return -1;
	memcpy(c->buf + c->len, buf, n);
	c->len += n;
	return 0;
}

bool minisign_key_load(const char *path, struct minisign_key *key, struct pkg_error *err)
{
	struct collect *c = xcalloc(1, sizeof *c);
	bool ok = false;

	if (pkg_file_stream(path, MINISIGN_KEY_FILE_MAX, collect_chunk, c, err) < 0)
		goto out;
	ok = minisign_key_parse(c->buf, c->len, key, err);
	if (!ok)
		pkg_error_set(err, "key", path, "%s", err ? err->message : "malformed key");
out:
	free(c);
	return ok;
}

/* Parses the four lines of a signature; false with a sentence. */
static bool sig_parse(const char *text, struct sig *s, char *why, size_t whylen)
{
	struct line lines[4];
	uint8_t bin[SIG_BIN_LEN];
	size_t len = strnlen(text, MINISIGN_SIG_MAX + 1);

	if (len > MINISIGN_SIG_MAX) {
		snprintf(why, whylen, "signature longer than %d bytes", MINISIGN_SIG_MAX);
		return false;
	}
	if (split_lines(text, len, lines, 4) != 4 || !has_prefix(lines[0], UNTRUSTED_PREFIX) ||
	    !has_prefix(lines[2], TRUSTED_PREFIX)) {
		snprintf(why, whylen,
			 "signature is not minisign's four lines (untrusted comment, "
			 "signature, trusted comment, global signature)");
		return false;
	}
	if (!b64_exact(lines[1], bin, sizeof bin) || bin[0] != 'E' ||
	    (bin[1] != 'd' && bin[1] != 'D')) {
		snprintf(why, whylen,
			 "signature line is not the base64 of an Ed25519 minisign signature");
		return false;
	}
	if (!b64_exact(lines[3], s->global, sizeof s->global)) {
		snprintf(why, whylen, "global signature line is not 64 bytes of base64");
		return false;
	}
	s->trusted.s = lines[2].s + strlen(TRUSTED_PREFIX);
	s->trusted.len = lines[2].len - strlen(TRUSTED_PREFIX);
	if (s->trusted.len > MINISIGN_TRUSTED_MAX) {
		snprintf(why, whylen, "trusted comment longer than %d bytes", MINISIGN_TRUSTED_MAX);
		return false;
	}
	memcpy(s->alg, bin, 2);
	memcpy(s->id, bin + 2, sizeof s->id);
	memcpy(s->sig, bin + 10, sizeof s->sig);
	return true;
}

bool minisign_signature_wellformed(const char *text, char *why, size_t whylen)
{
	struct sig s;

	return sig_parse(text, &s, why, whylen);
}

static int hash_chunk(void *ctx, const unsigned char *buf, size_t n)
{
	return crypto_generichash_update(ctx, buf, n);
}

/* The whole file, for a legacy signature. */
struct whole {
	unsigned char *buf;
	size_t len, cap;
};

static int whole_chunk(void *ctx, const unsigned char *buf, size_t n)
{
	struct whole *w = ctx;

	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2;
		w->buf = xrealloc(w->buf, w->cap);
	}
	memcpy(w->buf + w->len, buf, n);
	w->len += n;
	return 0;
}

/* Verifies the file signature of s (key already matched). */
static int verify_file_sig(const char *path, const struct sig *s, const uint8_t *pk,
			   uint64_t max_bytes, struct pkg_error *err)
{
	int rc = -1;

	if (s->alg[1] == 'D') {
		crypto_generichash_state st;
		unsigned char h[crypto_generichash_BYTES_MAX];

		crypto_generichash_init(&st, NULL, 0, sizeof h);
		if (pkg_file_stream(path, max_bytes, hash_chunk, &st, err) < 0)
			return -1;
		crypto_generichash_final(&st, h, sizeof h);
		rc = crypto_sign_verify_detached(s->sig, h, sizeof h, pk);
	} else {
		struct whole w = {0};

		if (pkg_file_stream(path, max_bytes, whole_chunk, &w, err) < 0) {
			free(w.buf);
			return -1;
		}
		rc = crypto_sign_verify_detached(s->sig, w.buf ? w.buf : (unsigned char *)"", w.len,
						 pk);
		free(w.buf);
	}
	if (rc != 0)
		pkg_error_set(err, "signature", path,
			      "the signature does not match the file (%s signature)",
			      s->alg[1] == 'D' ? "prehashed" : "legacy");
	return rc == 0 ? 0 : -1;
}

int minisign_verify_file(const char *path, const char *sig, const struct minisign_key *keys,
			 size_t n, uint64_t max_bytes, struct minisign_result *res,
			 struct pkg_error *err)
{
	const struct minisign_key *key = NULL;
	unsigned char signed_part[crypto_sign_BYTES + MINISIGN_TRUSTED_MAX];
	char why[256], hex[17];
	struct sig s;

	if (sodium_init() < 0) {
		pkg_error_set(err, "internal", NULL, "libsodium failed to initialise");
		return -1;
	}
	if (!sig_parse(sig, &s, why, sizeof why)) {
		pkg_error_set(err, "signature", path, "%s", why);
		return -1;
	}
	for (size_t i = 0; i < n && key == NULL; i++)
		if (sodium_memcmp(keys[i].id, s.id, sizeof s.id) == 0)
			key = &keys[i];
	if (key == NULL) {
		minisign_key_id_hex(s.id, hex);
		pkg_error_set(err, "signature-key", path,
			      "signed with key %s, which is not a trusted key", hex);
		return -1;
	}
	if (verify_file_sig(path, &s, key->pk, max_bytes, err) < 0)
		return -1;
	/* The global signature covers the signature and the trusted comment. */
	memcpy(signed_part, s.sig, sizeof s.sig);
	memcpy(signed_part + sizeof s.sig, s.trusted.s, s.trusted.len);
	if (crypto_sign_verify_detached(s.global, signed_part, sizeof s.sig + s.trusted.len,
					key->pk) != 0) {
		pkg_error_set(err, "signature", path,
			      "the global signature does not match: the trusted comment was "
			      "altered");
		return -1;
	}
	if (res != NULL) {
		minisign_key_id_hex(key->id, res->key_id);
		snprintf(res->trusted_comment, sizeof res->trusted_comment, "%.*s",
			 (int)s.trusted.len, s.trusted.s);
	}
	return 0;
}
