/*
 * libFuzzer target for the JSON Schema validator: a manifest's configSchema
 * comes from whoever wrote the plugin, a config from whoever calls the API.
 * The input is a schema, a NUL byte, then an instance (without a NUL the
 * input is both: a schema validating itself). Whatever the bytes, compiling
 * ends with a schema or a message, validating ends within its limits, and
 * the result holds these invariants: validating twice gives the same errors
 * in the same order (unless the clock stopped one of them), every path is a JSON Pointer, the JSON
 * list matches, and a value equals itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_schema: %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* One JSON value from bytes; *ok false when they are not JSON. */
static json_object *parse(const char *p, size_t n, bool *ok)
{
	json_tokener *tok = json_tokener_new_ex(64);
	json_object *j = json_tokener_parse_ex(tok, p, (int)n);
	*ok = json_tokener_get_error(tok) == json_tokener_success;
	json_tokener_free(tok);
	return j;
}

static bool timed_out(const struct schema_errors *e)
{
	size_t n = schema_errors_count(e);
	return n > 0 && strstr(schema_errors_message(e, n - 1), "took longer than") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t slen = nul ? (size_t)(nul - text) : size;
	const char *itext = nul ? nul + 1 : text;
	size_t ilen = nul ? size - slen - 1 : size;
	bool sok, iok;
	char err[512];

	json_object *doc = parse(text, slen, &sok);
	json_object *inst = parse(itext, ilen, &iok);
	if (!sok || !iok)
		goto out;
	struct schema *s = schema_compile(doc, err, sizeof(err));
	if (s == NULL) {
		CHECK(err[0] != '\0');
		goto out;
	}
	struct schema_errors *a = schema_validate(s, inst), *b = schema_validate(s, inst);
	size_t n = schema_errors_count(a);
	/* The clock is the one bound that may end two runs differently. */
	if (timed_out(a) || timed_out(b))
		goto done;
	CHECK(n == schema_errors_count(b));
	CHECK(n <= SCHEMA_MAX_ERRORS + 2);
	for (size_t i = 0; i < n; i++) {
		const char *p = schema_errors_path(a, i);
		CHECK(p[0] == '\0' || p[0] == '/');
		CHECK(strcmp(p, schema_errors_path(b, i)) == 0);
		CHECK(strcmp(schema_errors_keyword(a, i), schema_errors_keyword(b, i)) == 0);
		CHECK(strcmp(schema_errors_message(a, i), schema_errors_message(b, i)) == 0);
		CHECK(schema_errors_message(a, i)[0] != '\0');
	}
done:;
	json_object *list = schema_errors_to_json(a);
	CHECK(json_object_array_length(list) == n);
	json_object_put(list);
	schema_errors_free(a);
	schema_errors_free(b);
	schema_free(s);
out:
	json_object_put(doc);
	json_object_put(inst);
	return 0;
}
