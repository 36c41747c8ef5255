/*
 * Which values of a plugin's configuration are secrets, and what follows from
 * it: a copy with every secret masked (what the API shows), a masked secret
 * sent back keeping its stored value (PUT config), and the list of secret
 * strings the daemon blanks out of the plugin's log lines.
 *
 * A value is a secret when a schema that applies to it (configSchema, walked
 * through properties, patternProperties (PCRE2), additionalProperties, items
 * in both forms, prefixItems, additionalItems, allOf/anyOf/oneOf, if/then/else
 * and local $ref) says "sensitive": true, "writeOnly": true or "format":
 * "password"; or when its key's name says so (SECRETS_NAMES in secrets.c),
 * unless a schema that applies says "sensitive": false. A secret object or
 * array is masked whole.
 */
#ifndef SS_SECRETS_H
#define SS_SECRETS_H

#include <json-c/json.h>
#include <stdbool.h>

#define SECRETS_MASK "********"

/* Shortest secret blanked out of log lines: shorter ones would shred every line. */
#define SECRETS_REDACT_MIN 4

/* A copy of config with every secret replaced by SECRETS_MASK (new reference). */
json_object *secrets_mask(json_object *config, json_object *schema);

/*
 * A copy of sent where each secret still equal to SECRETS_MASK takes its
 * value from stored, the configuration it replaces: a client may send back
 * what it read (new reference).
 */
json_object *secrets_unmask(json_object *sent, json_object *stored, json_object *schema);

/* Most secrets secrets_values lists: the log redaction looks for each in every line. */
#define SECRETS_VALUES_MAX 256

/*
 * Every secret string of config (the strings inside a secret object or array
 * included, numbers as written) of at least SECRETS_REDACT_MIN bytes, as a JSON
 * array of strings without repeats, longest first, at most SECRETS_VALUES_MAX
 * of them (the longest) (new reference).
 */
json_object *secrets_values(json_object *config, json_object *schema);

/* Whether a key's name alone says its value is a secret (password, apiKey, ...). */
bool secrets_name(const char *key);

#endif
