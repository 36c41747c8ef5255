/*
 * The one reader of JSON that came from outside the process: HTTP bodies,
 * database rows, protocol frames, manifests, catalogs. json-c's tokener, even
 * in strict mode, takes single-quoted keys, keeps "a\u0000b" as key "a",
 * clamps integers past 64 bits to INT64_MIN / UINT64_MAX without a word, and
 * counts depth with a default (32) that is not ours; so the grammar is read
 * here, and json-c only holds the result.
 *
 * What it accepts is RFC 8259 and nothing more: no comments, no single
 * quotes, no trailing commas, no bare words, nothing but white space after
 * the value, well-formed UTF-8 (surrogate escapes paired), no duplicate keys,
 * no key holding U+0000, no nesting past the depth given. Numbers come back
 * as they were written: an integer that fits int64 is a json-c int (so
 * json_object_get_int64 is exact for every int we produce); any other number
 * is a json-c double that serialises with its original text; a number whose
 * magnitude no double can hold (1e400) is refused.
 */
#ifndef SS_JSON_H
#define SS_JSON_H

#include <json-c/json.h>
#include <stddef.h>

/*
 * The depth limit of every document the platform reads, counted as json-c
 * does: each value is one level, so a scalar or an empty container is 1 deep
 * and {"a":1} is 2. One number for the HTTP API, the database and the
 * protocol, so that whatever one accepts the others can read back.
 */
#define JSON_MAX_DEPTH 64

/*
 * Levels our own envelopes may add around a value we accepted: a config is
 * stored inside a database row ({"config": ...}) and sent inside a frame
 * ({"t":"init","config": ...}); event data travels in {"t":"event","data": ...};
 * a batch wraps each event in an array. Input whose values are stored or
 * passed on (HTTP bodies) is read with JSON_INPUT_DEPTH, so that every
 * envelope around them stays within JSON_MAX_DEPTH.
 */
#define JSON_WRAP_DEPTH 4
#define JSON_INPUT_DEPTH (JSON_MAX_DEPTH - JSON_WRAP_DEPTH)

/* Room for a reason such as "invalid JSON at byte 1048575: nesting deeper than 64 levels". */
#define JSON_ERR_MAX 128

/*
 * Parses text[0..len) (need not be NUL-terminated) as one JSON value of at
 * most max_depth levels. Returns a new reference, or NULL with err (errlen
 * bytes, may be NULL) saying what was wrong and at which byte offset.
 * A top-level JSON null is returned as NULL too: callers that accept it
 * check err[0] == '\0'.
 */
json_object *json_read(const char *text, size_t len, int max_depth, char *err, size_t errlen);

/*
 * The same for a value that must be an object (frames, rows, manifests,
 * most HTTP bodies); anything else is refused with "not a JSON object".
 */
json_object *json_read_object(const char *text, size_t len, int max_depth, char *err,
			      size_t errlen);

/* Nesting of v as json_read counts it (NULL, JSON null, is 1). */
int json_depth(json_object *v);

/* json_check: strings must not hold U+0000 (what PostgreSQL's jsonb cannot store). */
#define JSON_CHECK_NO_NUL 1

/*
 * Whether a value built in memory (by a plugin, from several sources) can be
 * written as JSON that json_read reads back: numbers finite (json-c writes
 * NaN and Infinity), strings and keys well-formed UTF-8, nesting at most
 * max_depth, and with JSON_CHECK_NO_NUL no U+0000 in strings. 0, or -1 with
 * err saying what and where ("/a/3: NaN or Infinity is not JSON"; no pointer
 * for v itself).
 */
int json_check(json_object *v, int max_depth, int flags, char *err, size_t errlen);

#endif
