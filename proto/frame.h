/*
 * The frame codec of the plugin protocol (see PROTOCOL.md): a 4-byte unsigned
 * big-endian length N, then N bytes of UTF-8 JSON holding exactly one object.
 * The decoder checks N against the maximum before it allocates or waits for the
 * body, so a peer cannot make us reserve memory by announcing a large frame.
 * The body is read with json_read (json.h): strict JSON, JSON_MAX_DEPTH.
 */
#ifndef SS_FRAME_H
#define SS_FRAME_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

#define FRAME_HEADER_LEN 4
#define FRAME_MAX_DEFAULT (1024u * 1024u)
enum frame_result {
	FRAME_ERROR = -1,    /* protocol error: end the peer; err says why */
	FRAME_NEED_MORE = 0, /* not a whole frame yet */
	FRAME_OK = 1,	     /* *out holds one object, *consumed bytes used */
};

/*
 * Decodes one frame from the front of buf. On FRAME_OK, *out is a new
 * reference the caller puts, and *consumed is the frame's size with header.
 * err (may be NULL) receives a human-readable reason on FRAME_ERROR.
 */
enum frame_result frame_parse(const unsigned char *buf, size_t len, size_t max, size_t *consumed,
			      json_object **out, char *err, size_t errlen);

/* The same over an evbuffer: on FRAME_OK the frame is drained from in. */
enum frame_result frame_pull(struct evbuffer *in, size_t max, json_object **out, char *err,
			     size_t errlen);

/* The body length a 4-byte header announces (unchecked). */
uint32_t frame_length(const unsigned char hdr[FRAME_HEADER_LEN]);

/* Writes the 4-byte header for a body of n bytes. */
void frame_header(unsigned char hdr[FRAME_HEADER_LEN], uint32_t n);

/* Appends one frame holding json (len bytes) to out. -1 if len is 0 or over max. */
int frame_append(struct evbuffer *out, const char *json, size_t len, size_t max);

/* Serialises obj and appends it as one frame. -1 if it would exceed max. */
int frame_append_obj(struct evbuffer *out, json_object *obj, size_t max);

/*
 * Serialises obj into a new buffer that holds header and body, for code that
 * sends the same bytes to many peers. Returns NULL if over max; *len is the total.
 */
unsigned char *frame_encode(json_object *obj, size_t max, size_t *len);

#endif
