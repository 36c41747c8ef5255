/*
 * JSON Schema patterns are ECMA-262 regular expressions; PCRE2 runs them.
 * The two dialects mostly agree. Where they differ this file either
 * translates (".", "\s", "\S", "\v", "$") or refuses what ECMA-262 does not
 * have (PCRE-only escapes such as "\A" or "\Z"), so a pattern means what
 * its author tested in a browser or never compiles at all.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_regex.h"
#include "xmalloc.h"

/* Bounds on one search: a pathological pattern fails the value, never hangs. */
#define REGEX_MATCH_LIMIT 100000
#define REGEX_DEPTH_LIMIT 10000
#define REGEX_HEAP_LIMIT 8192 /* KiB */

/* ECMA-262 WhiteSpace and LineTerminator beyond ASCII, for "\s". */
#define ECMA_SPACE_EXTRA "\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"

struct rbuf {
	char *p;
	size_t len, cap;
};

static void rb_add(struct rbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 64;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void rb_str(struct rbuf *b, const char *s)
{
	rb_add(b, s, strlen(s));
}

/*
 * Rewrites src into the PCRE2 spelling of the same ECMA-262 pattern.
 * Returns -1 (with a message) for an escape ECMA-262 does not define.
 */
static int translate(const char *src, size_t len, struct rbuf *out, char *err, size_t errlen)
{
	bool in_class = false;
	for (size_t i = 0; i < len; i++) {
		char c = src[i];
		if (c == '\\') {
			if (i + 1 >= len) {
				snprintf(err, errlen, "pattern ends with a lone backslash");
				return -1;
			}
			char e = src[++i];
			switch (e) {
			case 's':
				rb_str(out, in_class ? "\\s" ECMA_SPACE_EXTRA
						     : "[\\s" ECMA_SPACE_EXTRA "]");
				continue;
			case 'S':
				/* Inside a class a negated set cannot be spelled; ASCII \S it is.
				 */
				rb_str(out, in_class ? "\\S" : "[^\\s" ECMA_SPACE_EXTRA "]");
				continue;
			case 'v':
				rb_str(out, "\\x0b");
				continue;
			case 'A':
			case 'Z':
			case 'z':
			case 'G':
			case 'Q':
			case 'E':
			case 'K':
			case 'R':
			case 'X':
			case 'C':
			case 'N':
			case 'h':
			case 'H':
			case 'V':
			case 'a':
			case 'e':
			case 'g':
			case 'o':
			case 'p':
			case 'P':
				snprintf(err, errlen, "\\%c is not an ECMA-262 escape", e);
				return -1;
			default:
				rb_add(out, src + i - 1, 2);
				continue;
			}
		}
		if (in_class) {
			if (c == ']')
				in_class = false;
			rb_add(out, &c, 1);
			continue;
		}
		if (c == '[') {
			in_class = true;
			rb_add(out, &c, 1);
			/* "[]" and "[^]" are ECMA's empty and any-character classes. */
			if (i + 1 < len && src[i + 1] == '^') {
				rb_add(out, "^", 1);
				i++;
			}
			if (i + 1 < len && src[i + 1] == ']') {
				rb_add(out, "]", 1);
				i++;
				in_class = false;
			}
			continue;
		}
		if (c == '.') {
			/* ECMA's "." stops at every LineTerminator, not only "\n". */
			rb_str(out, "[^\\n\\r\\u2028\\u2029]");
			continue;
		}
		if (c == '(' && i + 2 < len && src[i + 1] == '?' &&
		    strchr(":=!<", src[i + 2]) == NULL) {
			snprintf(err, errlen, "(?%c is not ECMA-262 group syntax", src[i + 2]);
			return -1;
		}
		rb_add(out, &c, 1);
	}
	return 0;
}

pcre2_code *schema_regex_compile(const char *src, size_t len, char *err, size_t errlen)
{
	struct rbuf out = {0};
	pcre2_code *re = NULL;
	int code;
	PCRE2_SIZE off;

	if (len > 4096) {
		snprintf(err, errlen, "pattern longer than 4096 bytes");
		return NULL;
	}
	if (memchr(src, '\0', len) != NULL) {
		snprintf(err, errlen, "pattern contains a NUL character");
		return NULL;
	}
	if (translate(src, len, &out, err, errlen) < 0)
		goto done;
	rb_add(&out, "", 0);
	re = pcre2_compile((PCRE2_SPTR)out.p, out.len,
			   PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX |
			       PCRE2_ALLOW_EMPTY_CLASS | PCRE2_NO_AUTO_POSSESS,
			   &code, &off, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "invalid pattern: %s", (const char *)msg);
	}
done:
	free(out.p);
	return re;
}

pcre2_match_context *schema_regex_limits(void)
{
	pcre2_match_context *m = pcre2_match_context_create(NULL);
	if (m == NULL)
		return NULL;
	pcre2_set_match_limit(m, REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(m, REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(m, REGEX_HEAP_LIMIT);
	return m;
}

int schema_regex_search(const pcre2_code *re, pcre2_match_context *mctx, pcre2_match_data *md,
			const char *s, size_t len)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, mctx);
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

size_t schema_utf8_length(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}
