/* Restart policy: exponential backoff with a cap, and a crash-loop window. */
#ifndef SS_BACKOFF_H
#define SS_BACKOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"

#define BACKOFF_HISTORY 32

struct backoff {
	int initial_ms;
	int max_ms;
	int limit; /* crashes within window_ms that mean "failed" */
	int window_ms;
	int64_t crashes[BACKOFF_HISTORY]; /* crash times (ms), the most recent kept */
	struct ring ring;
};

void backoff_init(struct backoff *b, int initial_ms, int max_ms, int limit, int window_ms);
/*
 * Records a crash at now_ms. Returns the delay before the next start, or -1
 * when the crash loop limit is reached (the plugin is failed).
 */
int backoff_crash(struct backoff *b, int64_t now_ms);
/* Number of crashes recorded within the window ending at now_ms. */
int backoff_recent(const struct backoff *b, int64_t now_ms);
/* Forgets the history (an admin re-enabled the plugin). */
void backoff_reset(struct backoff *b);

#endif
