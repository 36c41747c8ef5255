/*
 * A plugin that misbehaves towards the daemon once, on its first event, in
 * the way BADHOST_KIND names (set by the build): it writes one bad frame
 * straight onto the protocol socket (fd 3), exits, stalls, or floods the
 * daemon with log records. The integration
 * tests check that the daemon ends the host for it and says why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <streamspace/plugin.h>

#ifndef BADHOST_KIND
#error "BADHOST_KIND must be defined by the build"
#endif
#ifndef BADHOST_NAME
#error "BADHOST_NAME must be defined by the build"
#endif

enum {
	ZERO_LENGTH,
	NOT_JSON,
	NOT_OBJECT,
	UNKNOWN_TYPE,
	DAEMON_TYPE,
	BAD_UTF8,
	TOO_DEEP,
	STRAY_REPLY,
	EXIT_3,
	EXIT_0,
	STALL,
	LOG_FLOOD,
	CLOSE_CHANNEL
};

/* Writes a frame holding body (n bytes) on fd 3, header included. */
static void send_raw(const char *body, size_t n)
{
	unsigned char frame[512];

	if (n > sizeof frame - 4)
		abort();
	frame[0] = (unsigned char)(n >> 24);
	frame[1] = (unsigned char)(n >> 16);
	frame[2] = (unsigned char)(n >> 8);
	frame[3] = (unsigned char)n;
	memcpy(frame + 4, body, n);
	if (write(3, frame, n + 4) != (ssize_t)(n + 4))
		abort();
}

static void misbehave(ss_plugin *p)
{
	static const char utf8[] = "{\"t\":\"log\",\"level\":\"info\",\"msg\":\"\xc0\xaf\"}";

	switch (BADHOST_KIND) {
	case ZERO_LENGTH:
		send_raw("", 0);
		break;
	case NOT_JSON:
		send_raw("{\"t\":\"log\",", 11);
		break;
	case NOT_OBJECT:
		send_raw("[\"log\"]", 7);
		break;
	case UNKNOWN_TYPE:
		send_raw("{\"t\":\"bogus\",\"id\":1}", 20);
		break;
	case DAEMON_TYPE:
		send_raw("{\"t\":\"shutdown\"}", 16);
		break;
	case BAD_UTF8:
		send_raw(utf8, sizeof utf8 - 1);
		break;
	case TOO_DEEP: {
		/* A log record whose fields nest 70 arrays deep: over the frame limit
		 * (JSON_MAX_DEPTH, 64). */
		char deep[256];
		size_t n = (size_t)snprintf(deep, sizeof deep, "%s",
					    "{\"t\":\"log\",\"level\":\"info\",\"msg\":\"x\","
					    "\"fields\":{\"a\":");
		for (int i = 0; i < 70; i++)
			deep[n++] = '[';
		for (int i = 0; i < 70; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		deep[n++] = '}';
		send_raw(deep, n);
		break;
	}
	case STRAY_REPLY:
		send_raw("{\"t\":\"reply\",\"id\":987654321,\"ok\":true}", 38);
		break;
	case EXIT_3:
		_exit(3);
	case EXIT_0:
		_exit(0);
	case STALL:
		/* Holds its first event for an hour: its queue fills behind it. */
		sleep(3600);
		break;
	case CLOSE_CHANNEL:
		/* Hangs up on the daemon but stays alive. */
		close(3);
		sleep(3600);
		break;
	case LOG_FLOOD:
		/* Log records as fast as the socket takes them, then answer. */
		for (int i = 0; i < 50000; i++)
			ss_log(p, SS_INFO, "flood %d", i);
		break;
	}
}

static int on_event(ss_plugin *p, const ss_event *ev)
{
	static int done;

	(void)ev;
	/* Once per process: a restarted host misbehaves again on its first event. */
	if (!done++)
		misbehave(p);
	return 0;
}

static int on_load(ss_plugin *p)
{
	return ss_subscribe(p, "*", on_event);
}

SS_PLUGIN(.name = BADHOST_NAME, .version = "0.0.1", .on_load = on_load);
