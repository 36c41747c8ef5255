/*
 * JSON Schema draft-07 validation over json-c, for plugin configuration.
 *
 * A schema is compiled once (references resolved, patterns compiled, every
 * keyword checked) and the compiled object is then used for any number of
 * validations; nothing is re-parsed per call. Compilation and validation are
 * bounded (schema depth and size, evaluation depth and steps, regex match
 * limits), so a hostile manifest's schema yields an error, never a crash or
 * a hang. Only references within the document are resolved ("#..." JSON
 * Pointers, and URIs that an "$id" of the same document names); anything
 * else is a compile error. README.md ("Configuration schemas") lists what
 * is supported and what is not.
 */
#ifndef SS_SCHEMA_H
#define SS_SCHEMA_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Limits on what a schema may be, checked by schema_compile. */
#define SCHEMA_MAX_DEPTH 64	/* nesting of subschemas */
#define SCHEMA_MAX_NODES 10000	/* subschemas in one document */
#define SCHEMA_MAX_PATTERN 4096 /* bytes of one pattern */
/* Limits on one validation, checked by schema_validate. */
#define SCHEMA_MAX_EVAL_DEPTH 256 /* nested subschema evaluations */
#define SCHEMA_MAX_STEPS 4000000  /* subschema evaluations and value comparisons */
#define SCHEMA_MAX_ERRORS 1000	  /* errors kept; one more says there were more */
#define SCHEMA_MAX_MS 500	  /* time, for what steps cannot count (regex searches) */

struct schema;
struct schema_errors;

/*
 * Compiles doc (an object or a boolean; a reference is taken and held until
 * schema_free). NULL with a message in err naming the offending location.
 */
struct schema *schema_compile(json_object *doc, char *err, size_t errlen);
void schema_free(struct schema *s);

/*
 * Validates instance against s. Always returns a list (free it with
 * schema_errors_free); an empty list means valid. The errors come in a
 * stable order: the order of the schema's keywords as evaluated, then the
 * instance's members in document order.
 */
struct schema_errors *schema_validate(const struct schema *s, json_object *instance);

size_t schema_errors_count(const struct schema_errors *e);
/* JSON Pointer into the instance ("" is the instance itself). */
const char *schema_errors_path(const struct schema_errors *e, size_t i);
/* The keyword that failed ("type", "required", ...). */
const char *schema_errors_keyword(const struct schema_errors *e, size_t i);
const char *schema_errors_message(const struct schema_errors *e, size_t i);
/* [{"path", "keyword", "message"}, ...], a new array. */
json_object *schema_errors_to_json(const struct schema_errors *e);
void schema_errors_free(struct schema_errors *e);

/*
 * The formats checked by "format" (others are annotations and pass):
 * whether s (len bytes) is a valid value of format name. Exposed for tests.
 */
bool schema_format_known(const char *name);
bool schema_format_check(const char *name, const char *s, size_t len);

#endif
