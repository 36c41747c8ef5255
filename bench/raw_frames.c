/*
 * raw_frames: the protocol's own floor. The same event frames the daemon
 * sends a host, through a bare socketpair to a child process that decodes
 * each with frame_pull (length check, UTF-8 check, json-c parse), as a host
 * does, with no daemon, HTTP, queues or plugin in between.
 *
 *     raw_frames [EVENTS]
 *
 * The parent encodes each event once (as the bus does) and writes the frames
 * in 64 KiB chunks; the child reads, decodes and counts them, and answers
 * one byte when it has them all. Prints raw_frames_per_s.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "msg.h"

#define CHUNK 65536

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The frame of event id, shaped as the bus shapes it, with the data the
 * events_per_s client posts (bench/http_events.c).
 */
static unsigned char *event_frame(int64_t id, size_t *len)
{
	json_object *m = msg_new_request(MSG_EVENT, id), *data = json_object_new_object();
	unsigned char *f;
	char sid[32];

	snprintf(sid, sizeof sid, "s-%08" PRId64, id);
	msg_add_str(m, "type", "session.created");
	msg_add_int(m, "ts", 1700000000000 + id);
	msg_add_int(data, "t0_ns", now_ns());
	msg_add_str(data, "session_id", sid);
	msg_add_str(data, "user", "bench");
	json_object_object_add(m, "data", data);
	f = frame_encode(m, FRAME_MAX_DEFAULT, len);
	json_object_put(m);
	return f;
}

/* The receiving side: decode every frame, then say so. */
static int receive(int fd, long events)
{
	struct evbuffer *in = evbuffer_new();
	long got = 0;
	char err[128];

	while (got < events) {
		json_object *m;
		enum frame_result r;
		int n = evbuffer_read(in, fd, CHUNK);

		if (n <= 0) {
			fprintf(stderr, "raw_frames: receiver: read: %s\n",
				n == 0 ? "end of file" : strerror(errno));
			return 1;
		}
		while ((r = frame_pull(in, FRAME_MAX_DEFAULT, &m, err, sizeof err)) == FRAME_OK) {
			if (msg_type_of(m) != MSG_EVENT) {
				fprintf(stderr, "raw_frames: not an event\n");
				return 1;
			}
			json_object_put(m);
			got++;
		}
		if (r == FRAME_ERROR) {
			fprintf(stderr, "raw_frames: receiver: %s\n", err);
			return 1;
		}
	}
	evbuffer_free(in);
	return write(fd, "k", 1) == 1 ? 0 : 1;
}

int main(int argc, char **argv)
{
	long events = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	struct evbuffer *out = evbuffer_new();
	int sv[2], status = 0;
	int64_t t0, t1;
	pid_t pid;
	char ack;

	if (events < 1 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		fprintf(stderr, "usage: raw_frames [EVENTS]\n");
		return 64;
	}
	pid = fork();
	if (pid < 0)
		return 70;
	if (pid == 0) {
		close(sv[0]);
		_exit(receive(sv[1], events));
	}
	close(sv[1]);
	t0 = now_ns();
	for (long i = 1; i <= events; i++) {
		size_t len;
		unsigned char *f = event_frame(i, &len);
		/* evbuffer_add_reference would save a copy the daemon does not save either. */
		evbuffer_add(out, f, len);
		free(f);
		while (evbuffer_get_length(out) >= CHUNK ||
		       (i == events && evbuffer_get_length(out)))
			if (evbuffer_write(out, sv[0]) < 0) {
				fprintf(stderr, "raw_frames: write: %s\n", strerror(errno));
				return 1;
			}
	}
	if (read(sv[0], &ack, 1) != 1) {
		fprintf(stderr, "raw_frames: the receiver failed\n");
		return 1;
	}
	t1 = now_ns();
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	evbuffer_free(out);
	printf("raw_frames_per_s %.0f events/s\n", (double)events * 1e9 / (double)(t1 - t0));
	return 0;
}
