/*
 * fuzz_json: json_read (proto/json.c), the reader of every untrusted JSON
 * text. Whatever it accepts must serialise to text it accepts again, and that
 * text must be a fixed point (numbers kept as written, keys and strings as
 * decoded); what it refuses must come with a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_json: %s:%d: check failed: %s\n", __FILE__,          \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[JSON_ERR_MAX], err2[JSON_ERR_MAX];
	json_object *v = json_read((const char *)data, size, JSON_MAX_DEPTH, err, sizeof err), *w;
	const char *s1, *s2;
	size_t n1 = 0, n2 = 0;

	if (v == NULL) {
		/* Refused, or a lone null: a refusal always says where. */
		CHECK(err[0] == '\0' || strstr(err, "at byte ") != NULL);
		return 0;
	}
	CHECK(json_depth(v) <= JSON_MAX_DEPTH);
	s1 = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &n1);
	CHECK(utf8_valid((const unsigned char *)s1, n1));
	w = json_read(s1, n1, JSON_MAX_DEPTH, err2, sizeof err2);
	if (w == NULL) {
		fprintf(stderr, "fuzz_json: own output refused: %s\n%.*s\n", err2, (int)n1, s1);
		abort();
	}
	s2 = json_object_to_json_string_length(w, JSON_C_TO_STRING_PLAIN, &n2);
	CHECK(n1 == n2 && memcmp(s1, s2, n1) == 0);
	json_object_put(w);
	json_object_put(v);
	return 0;
}
