#include "backoff.h"

#include <string.h>

void backoff_init(struct backoff *b, int initial_ms, int max_ms, int limit, int window_ms)
{
	memset(b, 0, sizeof *b);
	b->initial_ms = initial_ms > 0 ? initial_ms : 1;
	b->max_ms = max_ms >= b->initial_ms ? max_ms : b->initial_ms;
	b->limit = limit > 0 ? (limit < BACKOFF_HISTORY ? limit : BACKOFF_HISTORY) : 1;
	b->window_ms = window_ms > 0 ? window_ms : 1;
}

void backoff_reset(struct backoff *b)
{
	b->ncrashes = 0;
	b->head = 0;
}

int backoff_recent(const struct backoff *b, int64_t now_ms)
{
	int n = 0;
	for (size_t i = 0; i < b->ncrashes; i++) {
		size_t at = (b->head + BACKOFF_HISTORY - 1 - i) % BACKOFF_HISTORY;
		if (now_ms - b->crashes[at] < b->window_ms)
			n++;
	}
	return n;
}

int backoff_crash(struct backoff *b, int64_t now_ms)
{
	int recent, delay;

	b->crashes[b->head] = now_ms;
	b->head = (b->head + 1) % BACKOFF_HISTORY;
	if (b->ncrashes < BACKOFF_HISTORY)
		b->ncrashes++;
	recent = backoff_recent(b, now_ms);
	if (recent >= b->limit)
		return -1;
	/*
	 * The delay doubles with each crash still inside the window, so a
	 * plugin that crashed once long ago restarts at once, and one that keeps
	 * crashing backs off quickly towards the cap.
	 */
	delay = b->initial_ms;
	for (int i = 1; i < recent && delay < b->max_ms; i++)
		delay *= 2;
	return delay < b->max_ms ? delay : b->max_ms;
}
