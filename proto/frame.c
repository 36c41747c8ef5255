#include "frame.h"

#include <event2/buffer.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "xmalloc.h"

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

static uint32_t read_be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
	       (uint32_t)p[3];
}

void frame_header(unsigned char hdr[FRAME_HEADER_LEN], uint32_t n)
{
	hdr[0] = (unsigned char)(n >> 24);
	hdr[1] = (unsigned char)(n >> 16);
	hdr[2] = (unsigned char)(n >> 8);
	hdr[3] = (unsigned char)n;
}

/* Checks a length prefix against the limits; 0 when acceptable. */
static int check_length(uint32_t n, size_t max, char *err, size_t errlen)
{
	if (n == 0) {
		set_err(err, errlen, "frame length 0");
		return -1;
	}
	if (n > max) {
		char msg[96];
		snprintf(msg, sizeof msg, "frame length %u over the maximum %zu", n, max);
		set_err(err, errlen, msg);
		return -1;
	}
	return 0;
}

/*
 * json-c's own UTF-8 check lets overlong forms, encoded surrogates and code
 * points past U+10FFFF through, so frames are checked here first.
 */
bool frame_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1fu;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0fu;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07u;
			min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/*
 * One tokener per thread, reset for each frame: allocating and freeing a
 * tokener (its parse stack and buffer) per frame was the largest cost of
 * decoding small frames. Daemon and host are single-threaded; the fuzzers and
 * benchmarks get their own per thread.
 */
static __thread json_tokener *frame_tok;

static json_tokener *frame_tokener(void)
{
	if (frame_tok == NULL) {
		frame_tok = json_tokener_new_ex(FRAME_MAX_DEPTH);
		if (frame_tok == NULL)
			return NULL;
		json_tokener_set_flags(frame_tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	}
	json_tokener_reset(frame_tok);
	return frame_tok;
}

/*
 * json_tokener_reset keeps a half-read \u escape (a pending high surrogate)
 * of a body that failed, and the next body, from any peer, would get a
 * U+FFFD out of it: a tokener that failed is replaced, not reused.
 */
static void frame_tokener_discard(void)
{
	json_tokener_free(frame_tok);
	frame_tok = NULL;
}

/* Parses body (exactly n bytes) as one JSON object with nothing after it. */
static enum frame_result parse_body(const char *body, size_t n, json_object **out, char *err,
				    size_t errlen)
{
	json_tokener *tok = frame_tokener();
	json_object *obj = NULL;
	enum frame_result r = FRAME_ERROR;

	if (tok == NULL)
		return FRAME_ERROR;
	if (!frame_utf8_valid((const unsigned char *)body, n)) {
		set_err(err, errlen, "invalid utf-8 in the frame body");
		goto out;
	}
	obj = json_tokener_parse_ex(tok, body, (int)n);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);
		/* A body that ends mid-value is as invalid as a malformed one. */
		set_err(err, errlen,
			e == json_tokener_continue ? "truncated JSON" : json_tokener_error_desc(e));
		json_object_put(obj);
		frame_tokener_discard();
		return FRAME_ERROR;
	}
	if ((size_t)json_tokener_get_parse_end(tok) != n) {
		set_err(err, errlen, "trailing bytes after the JSON object");
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		set_err(err, errlen, "frame is not a JSON object");
		goto out;
	}
	*out = obj;
	obj = NULL;
	r = FRAME_OK;
out:
	json_object_put(obj);
	json_tokener_reset(tok);
	return r;
}

enum frame_result frame_parse(const unsigned char *buf, size_t len, size_t max, size_t *consumed,
			      json_object **out, char *err, size_t errlen)
{
	uint32_t n;
	enum frame_result r;

	*out = NULL;
	*consumed = 0;
	if (len < FRAME_HEADER_LEN)
		return FRAME_NEED_MORE;
	n = read_be32(buf);
	if (check_length(n, max, err, errlen) < 0)
		return FRAME_ERROR;
	if (len - FRAME_HEADER_LEN < n)
		return FRAME_NEED_MORE;
	r = parse_body((const char *)buf + FRAME_HEADER_LEN, n, out, err, errlen);
	if (r == FRAME_OK)
		*consumed = FRAME_HEADER_LEN + (size_t)n;
	return r;
}

enum frame_result frame_pull(struct evbuffer *in, size_t max, json_object **out, char *err,
			     size_t errlen)
{
	unsigned char hdr[FRAME_HEADER_LEN];
	unsigned char *body;
	uint32_t n;
	enum frame_result r;

	*out = NULL;
	if (evbuffer_copyout(in, hdr, sizeof hdr) < (ev_ssize_t)sizeof hdr)
		return FRAME_NEED_MORE;
	n = read_be32(hdr);
	if (check_length(n, max, err, errlen) < 0)
		return FRAME_ERROR;
	if (evbuffer_get_length(in) - FRAME_HEADER_LEN < n)
		return FRAME_NEED_MORE;
	/* Linearise only header plus body; the rest of the buffer stays in chains. */
	body = evbuffer_pullup(in, (ev_ssize_t)(FRAME_HEADER_LEN + n));
	if (body == NULL)
		return FRAME_ERROR;
	r = parse_body((const char *)body + FRAME_HEADER_LEN, n, out, err, errlen);
	if (r == FRAME_OK)
		evbuffer_drain(in, FRAME_HEADER_LEN + (size_t)n);
	return r;
}

int frame_append(struct evbuffer *out, const char *json, size_t len, size_t max)
{
	unsigned char hdr[FRAME_HEADER_LEN];

	if (len == 0 || len > max || len > UINT32_MAX)
		return -1;
	frame_header(hdr, (uint32_t)len);
	if (evbuffer_add(out, hdr, sizeof hdr) < 0 || evbuffer_add(out, json, len) < 0)
		return -1;
	return 0;
}

int frame_append_obj(struct evbuffer *out, json_object *obj, size_t max)
{
	size_t len = 0;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
	return frame_append(out, s, len, max);
}

unsigned char *frame_encode(json_object *obj, size_t max, size_t *len)
{
	size_t n = 0;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &n);
	unsigned char *buf;

	if (n == 0 || n > max || n > UINT32_MAX)
		return NULL;
	buf = xmalloc(FRAME_HEADER_LEN + n);
	frame_header(buf, (uint32_t)n);
	memcpy(buf + FRAME_HEADER_LEN, s, n);
	*len = FRAME_HEADER_LEN + n;
	return buf;
}
