#include "frame.h"

#include <event2/buffer.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
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

uint32_t frame_length(const unsigned char hdr[FRAME_HEADER_LEN])
{
	return read_be32(hdr);
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

/* Parses body (exactly n bytes) as one JSON object with nothing after it. */
static enum frame_result parse_body(const char *body, size_t n, json_object **out, char *err,
				    size_t errlen)
{
	char why[JSON_ERR_MAX];

	*out = json_read_object(body, n, JSON_MAX_DEPTH, why, sizeof why);
	if (*out == NULL) {
		set_err(err, errlen, why);
		return FRAME_ERROR;
	}
	return FRAME_OK;
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
