/*
 * How a JSON Schema reference names a schema: a URI resolved against its
 * base and a fragment read as a JSON Pointer. The validator's rules
 * (schema_compile.c) and anyone else following a configSchema's "$ref"
 * (secrets.c) use these, so both see the same schema behind one "$ref".
 */
#ifndef SS_SCHEMA_REF_H
#define SS_SCHEMA_REF_H

#include <json-c/json.h>
#include <stddef.h>

/* ref resolved against base (RFC 3986 5.2), as a new string. */
char *schema_uri_resolve(const char *base, const char *ref);

/*
 * What the fragment frag (without "#", still percent-encoded) names from
 * start as a JSON Pointer; NULL with a message ("does not resolve", ...).
 */
json_object *schema_pointer(json_object *start, const char *frag, char *err, size_t errlen);

#endif
