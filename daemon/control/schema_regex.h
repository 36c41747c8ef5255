/*
 * JSON Schema's patterns (ECMA-262) as PCRE2 sees them, under the limits
 * every search runs with. The validator (schema_*.c) and whoever else reads
 * a configSchema's patterns (secrets.c: patternProperties) use these, so a
 * pattern means the same to both.
 */
#ifndef SS_SCHEMA_REGEX_H
#define SS_SCHEMA_REGEX_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stddef.h>

/* Compiles an ECMA-262 pattern for PCRE2; NULL with a message. */
pcre2_code *schema_regex_compile(const char *src, size_t len, char *err, size_t errlen);
/*
 * 1 match, 0 no match, -1 the match could not complete (limit reached,
 * invalid UTF-8 in the subject).
 */
int schema_regex_search(const pcre2_code *re, pcre2_match_context *mctx, pcre2_match_data *md,
			const char *s, size_t len);
/* The match context with the limits every search runs under; NULL on failure. */
pcre2_match_context *schema_regex_limits(void);
/* The code points of s (valid UTF-8), as patterns and minLength/maxLength count them. */
size_t schema_utf8_length(const char *s, size_t len);

#endif
