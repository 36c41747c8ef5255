#include "channel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "frame.h"
#include "xmalloc.h"

/* Reads go this many bytes at a time; a frame larger than that takes several. */
#define CHANNEL_READ_CHUNK 65536

struct channel {
	int fd;
	size_t max;
	unsigned char *buf; /* received bytes; buf[head, len) not yet parsed */
	size_t head, len, cap;
};

struct channel *channel_new(int fd)
{
	struct channel *ch = xcalloc(1, sizeof *ch);
	ch->fd = fd;
	ch->max = FRAME_MAX_DEFAULT;
	return ch;
}

void channel_free(struct channel *ch)
{
	if (ch == NULL)
		return;
	free(ch->buf);
	free(ch);
}

void channel_set_max(struct channel *ch, size_t max)
{
	ch->max = max;
}

size_t channel_max(const struct channel *ch)
{
	return ch->max;
}

/*
 * The length prefix and the message's own serialisation (json-c keeps it
 * in msg) go out in one writev: no copy of the body into a frame buffer,
 * no allocation per frame. A short write continues where it stopped.
 */
int channel_send(struct channel *ch, json_object *msg)
{
	size_t len = 0;
	const char *s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
	unsigned char hdr[FRAME_HEADER_LEN];
	struct iovec iov[2], *v = iov;
	int cnt = 2;

	if (len == 0 || len > ch->max || len > UINT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	frame_header(hdr, (uint32_t)len);
	iov[0] = (struct iovec){.iov_base = hdr, .iov_len = sizeof hdr};
	iov[1] = (struct iovec){.iov_base = (void *)s, .iov_len = len};
	while (cnt > 0) {
		ssize_t n = writev(ch->fd, v, cnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EPIPE;
			return -1;
		}
		while (cnt > 0 && (size_t)n >= v->iov_len) {
			n -= (ssize_t)v->iov_len;
			v++;
			cnt--;
		}
		if (cnt > 0) {
			v->iov_base = (char *)v->iov_base + n;
			v->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int channel_recv(struct channel *ch, json_object **out, char *err, size_t errlen)
{
	for (;;) {
		size_t used = 0;
		const unsigned char *start = ch->buf ? ch->buf + ch->head : NULL;
		enum frame_result r =
		    frame_parse(start, ch->len - ch->head, ch->max, &used, out, err, errlen);

		if (r == FRAME_ERROR)
			return -1;
		if (r == FRAME_OK) {
			/* Advance past it; the bytes move only when more must be read. */
			ch->head += used;
			return 1;
		}
		if (ch->head > 0) {
			memmove(ch->buf, ch->buf + ch->head, ch->len - ch->head);
			ch->len -= ch->head;
			ch->head = 0;
		}
		/*
		 * frame_parse has checked the length prefix against the maximum,
		 * so the buffer never grows past one allowed frame plus a chunk.
		 */
		if (ch->cap - ch->len < CHANNEL_READ_CHUNK) {
			ch->cap = ch->len + CHANNEL_READ_CHUNK;
			ch->buf = xrealloc(ch->buf, ch->cap);
		}
		ssize_t n = read(ch->fd, ch->buf + ch->len, ch->cap - ch->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			if (ch->len > 0) {
				snprintf(err, errlen, "connection closed inside a frame");
				return -1;
			}
			return 0;
		}
		ch->len += (size_t)n;
	}
}
