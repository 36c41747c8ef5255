/*
 * UTF-8 hygiene for what the host sends: the daemon reads every frame with
 * proto's strict reader (json.h), so a plugin's log line with a stray byte
 * would end the host. Strings from the plugin are repaired before they are sent.
 */
#ifndef SS_HOST_REPAIR_H
#define SS_HOST_REPAIR_H

#include <json-c/json.h>
#include <stddef.h>

/*
 * Copies at most max bytes of s into a new string, replacing every byte that
 * is not part of a well-formed UTF-8 sequence with '?', and never cutting a
 * sequence in half. Returns the new string (caller frees).
 */
char *utf8_sanitize(const char *s, size_t max);

/*
 * A copy of v that is safe to put in a frame: strings and keys repaired as
 * above, non-finite numbers (not JSON) replaced by null, nesting deeper than
 * depth replaced by a marker string. A new reference (NULL for JSON null).
 */
json_object *utf8_json_sanitize(json_object *v, int depth);

#endif
