/*
 * Helpers the schema unit tests share: compile a schema from text, validate
 * an instance from text, and assert on the exact list of errors.
 */
#ifndef SS_SCHEMA_TEST_H
#define SS_SCHEMA_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"

static inline json_object *parse_or_die(const char *text)
{
	enum json_tokener_error jerr;
	json_object *j = json_tokener_parse_verbose(text, &jerr);
	if (j == NULL && strcmp(text, "null") != 0)
		fail_msg("bad JSON in test: %s", text);
	return j;
}

static inline struct schema *compile_text(const char *text)
{
	char err[512];
	json_object *doc = parse_or_die(text);
	struct schema *s = schema_compile(doc, err, sizeof(err));
	json_object_put(doc);
	if (s == NULL)
		fail_msg("schema does not compile: %s: %s", text, err);
	return s;
}

/* The errors of instance against schema, as "path keyword" lines joined by ";". */
static inline char *errors_of(const char *schema, const char *instance)
{
	struct schema *s = compile_text(schema);
	json_object *inst = parse_or_die(instance);
	struct schema_errors *e = schema_validate(s, inst);
	size_t cap = 64 + 256 * schema_errors_count(e), len = 0;
	char *out = malloc(cap);
	out[0] = '\0';
	for (size_t i = 0; i < schema_errors_count(e); i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s %s", i ? ";" : "",
					schema_errors_path(e, i), schema_errors_keyword(e, i));
	schema_errors_free(e);
	json_object_put(inst);
	schema_free(s);
	return out;
}

#define assert_errors(sch, instance, expected)                                                     \
	do {                                                                                       \
		char *got_ = errors_of(sch, instance);                                             \
		assert_string_equal(got_, expected);                                               \
		free(got_);                                                                        \
	} while (0)

#define assert_valid(sch, instance) assert_errors(sch, instance, "")

/* text does not compile, and the message contains want. */
static inline void compile_error_is(const char *text, const char *want, int line)
{
	char err[512] = "";
	json_object *doc = parse_or_die(text);
	struct schema *s = schema_compile(doc, err, sizeof(err));
	json_object_put(doc);
	if (s != NULL) {
		schema_free(s);
		fail_msg("line %d: schema compiled but should not: %s", line, text);
	}
	if (strstr(err, want) == NULL)
		fail_msg("line %d: error \"%s\" does not mention \"%s\"", line, err, want);
}

#define assert_compile_error(text, want) compile_error_is(text, want, __LINE__)

#endif
