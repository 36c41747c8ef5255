/*
 * A committed row of ss_events as the outbox hands it on, shared by the
 * outbox (outbox.h) and its recent rows (recent.h).
 */
#ifndef SS_OUTBOX_ROW_H
#define SS_OUTBOX_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every field borrowed. origin: the plugin that emitted it or that a
 * platform event is about (NULL: a core event); platform: one of the
 * daemon's own events (admin subscribers only); own: appended by this
 * daemon's door (outbox_append), so data is the bus's own serialisation of
 * the event it accepted, not text read from the table (which a service may
 * have written: parse and check it).
 */
struct outbox_row {
	int64_t id;
	const char *type, *data, *origin; /* data: JSON text of len bytes */
	size_t len;
	bool platform, own;
};

#endif
