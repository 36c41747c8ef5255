/*
 * UTF-8 hygiene for what the host sends: the daemon parses every frame with
 * json-c's UTF-8 validation, so a plugin's log line with a stray byte would
 * end the host. Strings from the plugin are repaired before they are sent.
 */
#ifndef SS_HOST_UTF8_H
#define SS_HOST_UTF8_H

#include <json-c/json.h>
#include <stddef.h>

/*
 * Copies at most max bytes of s into a new string, replacing every byte that
 * is not part of a well-formed UTF-8 sequence with '?', and never cutting a
 * sequence in half. Returns the new string (caller frees).
 */
char *utf8_sanitize(const char *s, size_t max);

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 if ill-formed; n bytes available. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/*
 * A copy of v that is safe to put in a frame: strings and keys repaired as
 * above, non-finite numbers (not JSON) replaced by null, nesting deeper than
 * depth replaced by a marker string. A new reference (NULL for JSON null).
 */
json_object *utf8_json_sanitize(json_object *v, int depth);

#endif
