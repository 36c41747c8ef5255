#include "channel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "msg.h"
#include "xmalloc.h"

/* Reads go this many bytes at a time; a frame larger than that takes several. */
#define CHANNEL_READ_CHUNK 65536

struct channel {
	int fd;
	size_t max;
	unsigned char *buf; /* received bytes; buf[head, len) not yet parsed */
	size_t head, len, cap;
	/* Acks recorded and not sent yet: how many, the last id, since when. */
	int64_t ack_n, ack_id, ack_since_ns;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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

/* Writes every iovec, continuing after a short write; -1 with errno when the socket failed. */
static int write_all(int fd, struct iovec *v, int cnt)
{
	while (cnt > 0) {
		ssize_t n = writev(fd, v, cnt);
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

/* The held acks as one frame in buf (room for FRAME_HEADER_LEN + MSG_ACK_TEXT_MAX); its length or
 * 0. */
static size_t ack_frame(const struct channel *ch, unsigned char *buf)
{
	size_t len;

	if (ch->ack_n == 0)
		return 0;
	len =
	    msg_ack_encode((char *)buf + FRAME_HEADER_LEN, MSG_ACK_TEXT_MAX, ch->ack_n, ch->ack_id);
	frame_header(buf, (uint32_t)len);
	return FRAME_HEADER_LEN + len;
}

/*
 * The held acks, the length prefix and the message's own serialisation
 * (json-c keeps it in msg) go out in one writev: no copy of the body into a
 * frame buffer, no allocation per frame. A short write continues where it
 * stopped.
 */
int channel_send(struct channel *ch, json_object *msg)
{
	size_t len = 0;
	const char *s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
	unsigned char hdr[FRAME_HEADER_LEN], ack[FRAME_HEADER_LEN + MSG_ACK_TEXT_MAX];
	struct iovec iov[3];
	int cnt = 0;
	size_t alen = ack_frame(ch, ack);

	if (len == 0 || len > ch->max || len > UINT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	frame_header(hdr, (uint32_t)len);
	if (alen > 0)
		iov[cnt++] = (struct iovec){.iov_base = ack, .iov_len = alen};
	iov[cnt++] = (struct iovec){.iov_base = hdr, .iov_len = sizeof hdr};
	iov[cnt++] = (struct iovec){.iov_base = (void *)s, .iov_len = len};
	if (write_all(ch->fd, iov, cnt) < 0)
		return -1;
	ch->ack_n = 0;
	return 0;
}

void channel_ack(struct channel *ch, int64_t id)
{
	if (ch->ack_n == 0)
		ch->ack_since_ns = mono_ns();
	/* Past MSG_ACK_N_MAX the held ones go out first (the daemon's window is far smaller). */
	if (ch->ack_n == MSG_ACK_N_MAX && channel_ack_flush(ch) < 0)
		return; /* the next send reports the broken socket */
	ch->ack_n++;
	ch->ack_id = id;
}

int64_t channel_ack_held(const struct channel *ch, int64_t *age_ns)
{
	*age_ns = ch->ack_n > 0 ? mono_ns() - ch->ack_since_ns : 0;
	return ch->ack_n;
}

bool channel_has_frame(const struct channel *ch)
{
	size_t have = ch->len - ch->head;
	uint32_t n;

	if (have < FRAME_HEADER_LEN)
		return false;
	n = frame_length(ch->buf + ch->head);
	/* A bad prefix counts too: recv reports it without reading. */
	return n == 0 || n > ch->max || have - FRAME_HEADER_LEN >= n;
}

int channel_ack_flush(struct channel *ch)
{
	unsigned char ack[FRAME_HEADER_LEN + MSG_ACK_TEXT_MAX];
	struct iovec iov = {.iov_base = ack, .iov_len = ack_frame(ch, ack)};

	if (iov.iov_len == 0)
		return 0;
	if (write_all(ch->fd, &iov, 1) < 0)
		return -1;
	ch->ack_n = 0;
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
