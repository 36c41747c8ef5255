#include "repair.h"

#include <math.h>
#include <string.h>

#include "utf8.h"
#include "xmalloc.h"

char *utf8_sanitize(const char *s, size_t max)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t n = strnlen(s, max);
	char *out = xmalloc(n + 1);
	size_t i = 0, o = 0;

	while (i < n) {
		size_t k = utf8_seq_len(in + i, n - i);
		if (k == 0) {
			/* A stray byte, or a sequence the limit would cut: one '?'. */
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, in + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return out;
}

json_object *utf8_json_sanitize(json_object *v, int depth)
{
	json_object *out;

	if (depth <= 0)
		return json_object_new_string("(nested too deep)");
	switch (json_object_get_type(v)) {
	case json_type_null:
		return NULL;
	case json_type_boolean:
		return json_object_new_boolean(json_object_get_boolean(v));
	case json_type_int:
	case json_type_double: {
		/*
		 * A copy, not new_int64(get_int64): that clamps a uint64 above
		 * INT64_MAX, and new_double drops a number's original text.
		 */
		json_object *copy = NULL;

		if (!isfinite(json_object_get_double(v)) ||
		    json_object_deep_copy(v, &copy, NULL) < 0)
			return NULL;
		return copy;
	}
	case json_type_string: {
		char *s =
		    utf8_sanitize(json_object_get_string(v), (size_t)json_object_get_string_len(v));
		out = json_object_new_string(s);
		free(s);
		return out;
	}
	case json_type_array: {
		size_t n = json_object_array_length(v);
		out = json_object_new_array_ext((int)n);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(
			    out, utf8_json_sanitize(json_object_array_get_idx(v, i), depth - 1));
		return out;
	}
	case json_type_object: {
		/* The iterator API: json_object_object_foreach is a GNU statement expression. */
		struct json_object_iterator it = json_object_iter_begin(v);
		struct json_object_iterator end = json_object_iter_end(v);
		out = json_object_new_object();
		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
			const char *key = json_object_iter_peek_name(&it);
			char *k = utf8_sanitize(key, strlen(key));
			json_object_object_add(
			    out, k,
			    utf8_json_sanitize(json_object_iter_peek_value(&it), depth - 1));
			free(k);
		}
		return out;
	}
	}
	return NULL;
}
