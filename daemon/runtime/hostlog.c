#include "hostlog.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "xmalloc.h"

#define HOSTLOG_RATE 200
#define HOSTLOG_BURST 1000

struct hostlog {
	char *name;
	double tokens;
	int64_t refill_ms;
	uint64_t dropped, truncated;
	char *ring[HOSTLOG_KEEP];
	size_t head, len;
};

struct hostlog *hostlog_new(const char *name)
{
	struct hostlog *hl = xcalloc(1, sizeof *hl);
	hl->name = xstrdup(name);
	hl->tokens = HOSTLOG_BURST;
	hl->refill_ms = bus_now_ms();
	return hl;
}

static void ring_clear(struct hostlog *hl)
{
	for (size_t i = 0; i < HOSTLOG_KEEP; i++) {
		free(hl->ring[i]);
		hl->ring[i] = NULL;
	}
	hl->head = hl->len = 0;
}

void hostlog_free(struct hostlog *hl)
{
	if (hl == NULL)
		return;
	ring_clear(hl);
	free(hl->name);
	free(hl);
}

bool hostlog_allow(struct hostlog *hl)
{
	int64_t now = bus_now_ms();

	hl->tokens += (double)(now - hl->refill_ms) * HOSTLOG_RATE / 1000.0;
	if (hl->tokens > HOSTLOG_BURST)
		hl->tokens = HOSTLOG_BURST;
	hl->refill_ms = now;
	if (hl->tokens < 1.0) {
		/* Say so once per thousand dropped lines, not once per line. */
		if (hl->dropped++ % 1000 == 0)
			log_warn(hl->name, "log rate limit reached (%d lines/s): dropping lines",
				 HOSTLOG_RATE);
		return false;
	}
	hl->tokens -= 1.0;
	return true;
}

static void keep(struct hostlog *hl, const char *line)
{
	if (hl->len == HOSTLOG_KEEP) {
		free(hl->ring[hl->head]);
		hl->ring[hl->head] = xstrdup(line);
		hl->head = (hl->head + 1) % HOSTLOG_KEEP;
		return;
	}
	hl->ring[(hl->head + hl->len) % HOSTLOG_KEEP] = xstrdup(line);
	hl->len++;
}

void hostlog_drain(struct hostlog *hl, struct evbuffer *in, bool eof)
{
	char line[HOSTLOG_LINE_MAX + 1];

	for (;;) {
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		size_t len = evbuffer_get_length(in), take, skip;

		if (len == 0)
			break;
		if (eol.pos >= 0) {
			take = (size_t)eol.pos;
			skip = take + 1;
		} else if (len > HOSTLOG_LINE_MAX || eof) {
			take = len;
			skip = len;
		} else {
			break; /* wait for the rest of the line */
		}
		if (take > HOSTLOG_LINE_MAX) {
			hl->truncated++;
			take = HOSTLOG_LINE_MAX;
		}
		evbuffer_copyout(in, line, take);
		line[take] = '\0';
		evbuffer_drain(in, skip);
		log_sanitize(line);
		keep(hl, line);
		if (hostlog_allow(hl))
			log_info(hl->name, "%s", line);
	}
}

void hostlog_count_truncated(struct hostlog *hl)
{
	hl->truncated++;
}

const char *hostlog_last(const struct hostlog *hl)
{
	return hl->len ? hl->ring[(hl->head + hl->len - 1) % HOSTLOG_KEEP] : NULL;
}

json_object *hostlog_take_tail(struct hostlog *hl)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < hl->len; i++)
		json_object_array_add(
		    a, json_object_new_string(hl->ring[(hl->head + i) % HOSTLOG_KEEP]));
	ring_clear(hl);
	return a;
}

uint64_t hostlog_dropped(const struct hostlog *hl)
{
	return hl->dropped;
}

uint64_t hostlog_truncated(const struct hostlog *hl)
{
	return hl->truncated;
}
