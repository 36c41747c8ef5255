#include "backoff.h"

#include <string.h>

#include "clock.h"

void backoff_init(struct backoff *b, int initial_ms, int max_ms, int limit, int window_ms)
{
	memset(b, 0, sizeof *b);
	b->initial_ms = initial_ms > 0 ? initial_ms : 1;
	b->max_ms = max_ms >= b->initial_ms ? max_ms : b->initial_ms;
	b->limit = limit > 0 ? (limit < BACKOFF_HISTORY ? limit : BACKOFF_HISTORY) : 1;
	b->window_ms = window_ms > 0 ? window_ms : 1;
	ring_init(&b->ring, BACKOFF_HISTORY);
}

void backoff_reset(struct backoff *b)
{
	ring_init(&b->ring, BACKOFF_HISTORY);
}

int backoff_recent(const struct backoff *b, int64_t now_ms)
{
	int n = 0;
	for (size_t i = 0; i < b->ring.len; i++)
		if (now_ms - b->crashes[ring_at(&b->ring, i)] < b->window_ms)
			n++;
	return n;
}

int backoff_crash(struct backoff *b, int64_t now_ms)
{
	int recent, delay = 0;

	b->crashes[ring_push_overwrite(&b->ring)] = now_ms;
	recent = backoff_recent(b, now_ms);
	if (recent >= b->limit)
		return -1;
	/*
	 * The delay doubles with each crash still inside the window, so a
	 * plugin that crashed once long ago restarts at once, and one that keeps
	 * crashing backs off quickly towards the cap.
	 */
	for (int i = 0; i < recent && delay < b->max_ms; i++)
		delay = clock_double_delay(delay, b->initial_ms, b->max_ms);
	return delay;
}
