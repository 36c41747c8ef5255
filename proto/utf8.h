/*
 * UTF-8 as RFC 3629 defines it, the one check daemon and host share: json-c's
 * own (JSON_TOKENER_VALIDATE_UTF8) lets overlong forms, encoded surrogates and
 * code points past U+10FFFF through.
 */
#ifndef SS_UTF8_H
#define SS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 if ill-formed; n bytes available. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Whether s[0..n) is well-formed UTF-8 (NUL bytes included, they are U+0000). */
bool utf8_valid(const unsigned char *s, size_t n);

#endif
