#include "frame.h"

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
