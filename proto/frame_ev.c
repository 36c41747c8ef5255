/*
 * The frame codec over libevent's evbuffers (frame.h): the daemon's side.
 * Kept apart from frame.c so that a program using only the plain codec
 * (the plugin host, which reads fd 3 with frame_parse) links no libevent.
 */
#include "frame.h"

#include <event2/buffer.h>

/* The body length a header announces; frame_parse has checked it. */
static size_t body_length(const unsigned char hdr[FRAME_HEADER_LEN])
{
	return (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | (size_t)hdr[3];
}

enum frame_result frame_pull(struct evbuffer *in, size_t max, json_object **out, char *err,
			     size_t errlen)
{
	unsigned char hdr[FRAME_HEADER_LEN];
	unsigned char *frame;
	size_t used = 0, total;
	enum frame_result r;

	*out = NULL;
	if (evbuffer_copyout(in, hdr, sizeof hdr) < (ev_ssize_t)sizeof hdr)
		return FRAME_NEED_MORE;
	/*
	 * The header alone: frame_parse refuses a length of 0 or over max
	 * before anything waits for (or linearises) the body.
	 */
	r = frame_parse(hdr, sizeof hdr, max, &used, out, err, errlen);
	if (r == FRAME_ERROR)
		return FRAME_ERROR;
	total = FRAME_HEADER_LEN + body_length(hdr);
	if (evbuffer_get_length(in) < total)
		return FRAME_NEED_MORE;
	/* Linearise only header plus body; the rest of the buffer stays in chains. */
	frame = evbuffer_pullup(in, (ev_ssize_t)total);
	if (frame == NULL)
		return FRAME_ERROR;
	r = frame_parse(frame, total, max, &used, out, err, errlen);
	if (r == FRAME_OK)
		evbuffer_drain(in, used);
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
