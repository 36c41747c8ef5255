#include "utf8.h"

#include <math.h>
#include <string.h>

#include "xmalloc.h"

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
	/* Unicode 15, table 3-7: the only well-formed byte sequences. */
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : 0xbf;
		if (n < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;
		if (n < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

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
		return json_object_new_int64(json_object_get_int64(v));
	case json_type_double: {
		double d = json_object_get_double(v);
		return isfinite(d) ? json_object_new_double(d) : NULL;
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
