#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xmalloc.h"

struct reader {
	const char *s;
	size_t n;
	size_t i; /* the next byte to read */
	int max_depth;
	char *err;
	size_t errlen;
	bool failed;
	char *buf; /* scratch for the string being decoded */
	size_t len, cap;
};

/* Records the first error, with the offset it was found at. */
__attribute__((format(printf, 2, 3))) static void fail(struct reader *r, const char *fmt, ...)
{
	char msg[96];
	va_list ap;

	if (r->failed)
		return;
	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (r->err != NULL && r->errlen > 0)
		snprintf(r->err, r->errlen, "invalid JSON at byte %zu: %s", r->i, msg);
}

static void skip_ws(struct reader *r)
{
	while (r->i < r->n) {
		char c = r->s[r->i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		r->i++;
	}
}

static void buf_add(struct reader *r, const char *p, size_t k)
{
	if (r->cap - r->len < k + 1) {
		size_t cap = r->cap ? r->cap : 64;
		while (cap - r->len < k + 1)
			cap *= 2;
		r->buf = xrealloc(r->buf, cap);
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, k);
	r->len += k;
	r->buf[r->len] = '\0';
}

static int hex4(struct reader *r, uint32_t *out)
{
	uint32_t v = 0;

	if (r->n - r->i < 4) {
		r->i = r->n;
		fail(r, "unexpected end of input in a \\u escape");
		return -1;
	}
	for (int k = 0; k < 4; k++) {
		char c = r->s[r->i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else {
			fail(r, "\\u wants four hex digits");
			return -1;
		}
		r->i++;
	}
	*out = v;
	return 0;
}

/* Decodes a \uXXXX escape (r->i just after the 'u'), a surrogate pair in one go. */
static int unicode_escape(struct reader *r)
{
	uint32_t cp, lo;
	char u[4];
	size_t k, at = r->i - 2; /* errors point at the backslash */

	if (hex4(r, &cp) < 0)
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		r->i = at;
		fail(r, "unpaired surrogate \\u%04x", (unsigned)cp);
		return -1;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->n - r->i < 2 || r->s[r->i] != '\\' || r->s[r->i + 1] != 'u') {
			r->i = at;
			fail(r, "unpaired surrogate \\u%04x", (unsigned)cp);
			return -1;
		}
		r->i += 2;
		if (hex4(r, &lo) < 0)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff) {
			r->i = at;
			fail(r, "unpaired surrogate \\u%04x", (unsigned)cp);
			return -1;
		}
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp < 0x80) {
		u[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	buf_add(r, u, k);
	return 0;
}

/* Reads a string (r->i at the opening quote) into r->buf / r->len. */
static int read_string(struct reader *r)
{
	r->len = 0;
	buf_add(r, "", 0);
	r->i++;
	for (;;) {
		size_t start = r->i;
		unsigned char c = 0;

		/* Copy the run up to the next quote, escape or byte that needs a look. */
		while (r->i < r->n) {
			c = (unsigned char)r->s[r->i];
			if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
				break;
			r->i++;
		}
		buf_add(r, r->s + start, r->i - start);
		if (r->i >= r->n) {
			fail(r, "unexpected end of input in a string");
			return -1;
		}
		if (c == '"') {
			r->i++;
			return 0;
		}
		if (c < 0x20) {
			fail(r, "control character 0x%02x in a string (escape it)", c);
			return -1;
		}
		if (c >= 0x80) {
			size_t k = utf8_seq_len((const unsigned char *)r->s + r->i, r->n - r->i);
			if (k == 0) {
				fail(r, "invalid utf-8 in a string");
				return -1;
			}
			buf_add(r, r->s + r->i, k);
			r->i += k;
			continue;
		}
		/* A backslash. */
		if (++r->i >= r->n) {
			fail(r, "unexpected end of input in a string");
			return -1;
		}
		c = (unsigned char)r->s[r->i++];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			buf_add(r, (const char *)&c, 1);
			break;
		case 'b':
			buf_add(r, "\b", 1);
			break;
		case 'f':
			buf_add(r, "\f", 1);
			break;
		case 'n':
			buf_add(r, "\n", 1);
			break;
		case 'r':
			buf_add(r, "\r", 1);
			break;
		case 't':
			buf_add(r, "\t", 1);
			break;
		case 'u':
			if (unicode_escape(r) < 0)
				return -1;
			break;
		default:
			r->i--;
			fail(r, "unknown escape \\%c", c >= 0x20 && c < 0x7f ? c : '?');
			return -1;
		}
	}
}

/*
 * A number, kept as written: an int64 as a json-c int, anything else as a
 * double carrying its text (json-c would clamp a big integer silently).
 */
static json_object *read_number(struct reader *r)
{
	size_t start = r->i;
	bool integer = true;
	char small[64], *text = small;
	json_object *out = NULL;
	double d;

	if (r->s[r->i] == '-')
		r->i++;
	if (r->i < r->n && r->s[r->i] == '0') {
		r->i++;
	} else if (r->i < r->n && r->s[r->i] >= '1' && r->s[r->i] <= '9') {
		while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
			r->i++;
	} else {
		fail(r, "a number wants a digit here");
		return NULL;
	}
	if (r->i < r->n && r->s[r->i] == '.') {
		integer = false;
		r->i++;
		if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9') {
			fail(r, "a number wants a digit after '.'");
			return NULL;
		}
		while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
			r->i++;
	}
	if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
		integer = false;
		r->i++;
		if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-'))
			r->i++;
		if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9') {
			fail(r, "a number wants a digit in its exponent");
			return NULL;
		}
		while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
			r->i++;
	}
	if (r->i - start >= sizeof small)
		text = xmalloc(r->i - start + 1);
	memcpy(text, r->s + start, r->i - start);
	text[r->i - start] = '\0';
	if (integer) {
		long long v;

		errno = 0;
		v = strtoll(text, NULL, 10);
		if (errno == 0) {
			out = json_object_new_int64(v);
			goto done;
		}
	}
	d = strtod(text, NULL);
	if (!isfinite(d)) {
		r->i = start;
		fail(r, "number %.24s%s is out of range", text, strlen(text) > 24 ? "..." : "");
		goto done;
	}
	out = json_object_new_double_s(d, text);
done:
	if (text != small)
		free(text);
	return out;
}

static int literal(struct reader *r, const char *word)
{
	size_t k = strlen(word);

	if (r->n - r->i < k || memcmp(r->s + r->i, word, k) != 0) {
		fail(r, "unexpected character '%c'",
		     r->s[r->i] >= 0x20 && r->s[r->i] < 0x7f ? r->s[r->i] : '?');
		return -1;
	}
	r->i += k;
	return 0;
}

static json_object *read_value(struct reader *r, int depth);

static json_object *read_object(struct reader *r, int depth)
{
	json_object *obj = json_object_new_object();

	r->i++;
	skip_ws(r);
	if (r->i < r->n && r->s[r->i] == '}') {
		r->i++;
		return obj;
	}
	for (;;) {
		size_t at;
		char *key;
		json_object *v;

		skip_ws(r);
		if (r->i >= r->n || r->s[r->i] != '"') {
			if (r->i >= r->n)
				fail(r, "unexpected end of input in an object");
			else
				fail(r, "a key in double quotes expected");
			goto fail;
		}
		at = r->i;
		if (read_string(r) < 0)
			goto fail;
		if (memchr(r->buf, '\0', r->len) != NULL) {
			r->i = at;
			fail(r, "a key may not hold U+0000");
			goto fail;
		}
		if (json_object_object_get_ex(obj, r->buf, NULL)) {
			r->i = at;
			fail(r, "duplicate key \"%.32s\"", r->buf);
			goto fail;
		}
		key = xstrndup(r->buf, r->len);
		skip_ws(r);
		if (r->i >= r->n || r->s[r->i] != ':') {
			fail(r, "':' expected after a key");
			free(key);
			goto fail;
		}
		r->i++;
		v = read_value(r, depth + 1);
		if (r->failed) {
			free(key);
			goto fail;
		}
		json_object_object_add_ex(obj, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW);
		free(key);
		skip_ws(r);
		if (r->i < r->n && r->s[r->i] == ',') {
			r->i++;
			continue;
		}
		if (r->i < r->n && r->s[r->i] == '}') {
			r->i++;
			return obj;
		}
		fail(r,
		     r->i >= r->n ? "unexpected end of input in an object" : "',' or '}' expected");
		goto fail;
	}
fail:
	json_object_put(obj);
	return NULL;
}

static json_object *read_array(struct reader *r, int depth)
{
	json_object *arr = json_object_new_array();

	r->i++;
	skip_ws(r);
	if (r->i < r->n && r->s[r->i] == ']') {
		r->i++;
		return arr;
	}
	for (;;) {
		json_object *v = read_value(r, depth + 1);

		if (r->failed)
			goto fail;
		json_object_array_add(arr, v);
		skip_ws(r);
		if (r->i < r->n && r->s[r->i] == ',') {
			r->i++;
			continue;
		}
		if (r->i < r->n && r->s[r->i] == ']') {
			r->i++;
			return arr;
		}
		fail(r,
		     r->i >= r->n ? "unexpected end of input in an array" : "',' or ']' expected");
		goto fail;
	}
fail:
	json_object_put(arr);
	return NULL;
}

/* One value at nesting level depth (the top is 1). */
static json_object *read_value(struct reader *r, int depth)
{
	skip_ws(r);
	if (r->i >= r->n) {
		fail(r, "unexpected end of input");
		return NULL;
	}
	if (depth > r->max_depth) {
		fail(r, "nesting deeper than %d levels", r->max_depth);
		return NULL;
	}
	switch (r->s[r->i]) {
	case '{':
		return read_object(r, depth);
	case '[':
		return read_array(r, depth);
	case '"':
		if (read_string(r) < 0)
			return NULL;
		return json_object_new_string_len(r->buf, (int)r->len);
	case 't':
		return literal(r, "true") < 0 ? NULL : json_object_new_boolean(1);
	case 'f':
		return literal(r, "false") < 0 ? NULL : json_object_new_boolean(0);
	case 'n':
		literal(r, "null");
		return NULL;
	case '\'':
		fail(r, "single quotes are not JSON");
		return NULL;
	case '/':
		fail(r, "comments are not JSON");
		return NULL;
	default:
		if (r->s[r->i] == '-' || (r->s[r->i] >= '0' && r->s[r->i] <= '9'))
			return read_number(r);
		fail(r, "unexpected character '%c'",
		     r->s[r->i] >= 0x20 && r->s[r->i] < 0x7f ? r->s[r->i] : '?');
		return NULL;
	}
}

json_object *json_read(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	struct reader r = {
	    .s = text, .n = len, .max_depth = max_depth, .err = err, .errlen = errlen};
	json_object *v;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* json-c's string and array lengths are int. */
	if (len > INT32_MAX) {
		fail(&r, "document over %d bytes", INT32_MAX);
		return NULL;
	}
	v = read_value(&r, 1);
	if (!r.failed) {
		skip_ws(&r);
		if (r.i < r.n)
			fail(&r, "trailing bytes after the JSON value");
	}
	free(r.buf);
	if (r.failed) {
		json_object_put(v);
		return NULL;
	}
	return v;
}

json_object *json_read_object(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	json_object *v = json_read(text, len, max_depth, err, errlen);

	if (v == NULL && err != NULL && errlen > 0 && err[0] != '\0')
		return NULL;
	if (!json_object_is_type(v, json_type_object)) {
		json_object_put(v);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "not a JSON object");
		return NULL;
	}
	return v;
}

int json_depth(json_object *v)
{
	int d = 0;

	if (json_object_is_type(v, json_type_object)) {
		/* The iterator, not json_object_object_foreach: that macro is a GNU extension. */
		struct json_object_iterator it = json_object_iter_begin(v);
		struct json_object_iterator end = json_object_iter_end(v);

		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
			int c = json_depth(json_object_iter_peek_value(&it));
			if (c > d)
				d = c;
		}
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			int c = json_depth(json_object_array_get_idx(v, i));
			if (c > d)
				d = c;
		}
	}
	return d + 1;
}

/* Appends "/token" (with ~0 and ~1 escapes, cut to fit) to the pointer in path. */
static size_t path_push(char *path, size_t len, size_t cap, const char *tok)
{
	if (len < cap - 1)
		path[len++] = '/';
	for (; *tok && len < cap - 2; tok++) {
		if (*tok == '~' || *tok == '/') {
			path[len++] = '~';
			path[len++] = *tok == '~' ? '0' : '1';
		} else {
			path[len++] = *tok;
		}
	}
	path[len] = '\0';
	return len;
}

static int check(json_object *v, int depth, int max_depth, int flags, char *path, size_t plen,
		 size_t pcap, char *err, size_t errlen)
{
	const char *why = NULL;

	if (depth > max_depth) {
		snprintf(err, errlen, "%s%snests deeper than %d levels", path, plen ? ": " : "",
			 max_depth);
		return -1;
	}
	switch (json_object_get_type(v)) {
	case json_type_double:
		if (!isfinite(json_object_get_double(v)))
			why = "NaN or Infinity is not JSON";
		break;
	case json_type_string:
		if (!utf8_valid((const unsigned char *)json_object_get_string(v),
				(size_t)json_object_get_string_len(v)))
			why = "a string that is not UTF-8";
		else if ((flags & JSON_CHECK_NO_NUL) &&
			 memchr(json_object_get_string(v), '\0',
				(size_t)json_object_get_string_len(v)) != NULL)
			why = "a string holding U+0000 (\\u0000), which cannot be stored";
		break;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			char idx[24];

			snprintf(idx, sizeof idx, "%zu", i);
			if (check(json_object_array_get_idx(v, i), depth + 1, max_depth, flags,
				  path, path_push(path, plen, pcap, idx), pcap, err, errlen) < 0)
				return -1;
			path[plen] = '\0';
		}
		break;
	case json_type_object: {
		struct json_object_iterator it = json_object_iter_begin(v);
		struct json_object_iterator end = json_object_iter_end(v);

		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
			const char *key = json_object_iter_peek_name(&it);

			if (!utf8_valid((const unsigned char *)key, strlen(key))) {
				snprintf(err, errlen, "%s%sa key that is not UTF-8", path,
					 plen ? ": " : "");
				return -1;
			}
			if (check(json_object_iter_peek_value(&it), depth + 1, max_depth, flags,
				  path, path_push(path, plen, pcap, key), pcap, err, errlen) < 0)
				return -1;
			path[plen] = '\0';
		}
		break;
	}
	default:
		break;
	}
	if (why != NULL) {
		snprintf(err, errlen, "%s%s%s", path, plen ? ": " : "", why);
		return -1;
	}
	return 0;
}

int json_check(json_object *v, int max_depth, int flags, char *err, size_t errlen)
{
	char path[96] = "";

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return check(v, 1, max_depth, flags, path, 0, sizeof path, err, errlen);
}
