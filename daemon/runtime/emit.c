/*
 * Emits: name, permission, rate, then the bus. The plugin is the call's (the
 * peer's), so the namespace a plugin may always use is its own by
 * construction.
 */
#include "emit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "bus.h"
#include "clock.h"
#include "grants.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "sink.h"
#include "xmalloc.h"

/* One plugin's token bucket, kept across its hosts' restarts. */
struct bucket {
	LIST_ENTRY(bucket) entry;
	char *plugin;
	double tokens;
	int64_t at_ms;
	uint64_t limited;
	bool refusing; /* logged once per run of refusals */
};

struct emitter {
	struct bus *bus;
	const struct event_sink *sink;
	double rate, burst;
	LIST_HEAD(, bucket) buckets;
};

struct emitter *emitter_new(struct bus *bus, int rate)
{
	struct emitter *em = xcalloc(1, sizeof *em);

	em->bus = bus;
	em->rate = rate;
	em->burst = 10.0 * rate;
	LIST_INIT(&em->buckets);
	return em;
}

void emitter_free(struct emitter *em)
{
	struct bucket *b;

	if (em == NULL)
		return;
	while ((b = LIST_FIRST(&em->buckets)) != NULL) {
		LIST_REMOVE(b, entry);
		free(b->plugin);
		free(b);
	}
	free(em);
}

static struct bucket *bucket_of(struct emitter *em, const char *plugin)
{
	struct bucket *b;

	LIST_FOREACH(b, &em->buckets, entry)
	if (strcmp(b->plugin, plugin) == 0)
		return b;
	b = xcalloc(1, sizeof *b);
	b->plugin = xstrdup(plugin);
	b->tokens = em->burst;
	b->at_ms = clock_mono_ms();
	LIST_INSERT_HEAD(&em->buckets, b, entry);
	return b;
}

/* Takes a token; false when the bucket is empty (the refusal is counted). */
static bool take(struct emitter *em, struct bucket *b)
{
	int64_t now = clock_mono_ms();

	b->tokens += (double)(now - b->at_ms) * em->rate / 1000.0;
	if (b->tokens > em->burst)
		b->tokens = em->burst;
	b->at_ms = now;
	if (b->tokens < 1.0) {
		b->limited++;
		if (!b->refusing)
			log_warn(b->plugin,
				 "emit rate limit reached (%.0f/s, burst %.0f): refusing", em->rate,
				 em->burst);
		b->refusing = true;
		return false;
	}
	b->tokens -= 1.0;
	b->refusing = false;
	return true;
}

void emitter_set_sink(struct emitter *em, const struct event_sink *sink)
{
	em->sink = sink;
}

/* One emit waiting for its commit. */
struct pending_emit {
	struct call *call;
	char type[];
};

static void committed(int64_t id, const char *err, void *arg)
{
	struct pending_emit *pe = arg;

	if (id < 0) {
		/* Not committed: not accepted, and the plugin is told so. */
		call_error(pe->call, ERR_UNAVAILABLE, "the event was not stored: %s", err);
	} else {
		json_object *fields = json_object_new_object();

		msg_add_int(fields, "event_id", id);
		msg_add_str(fields, "type", pe->type);
		call_ok(pe->call, fields);
	}
	free(pe);
}

/* The durable path: the outbox's bounds, then the append; answered at the commit. */
static void emit_durable(struct emitter *em, struct call *call, const char *plugin,
			 const char *name, struct bus_event *ev)
{
	struct pending_emit *pe;
	size_t len, n = strlen(name);
	const char *data = bus_event_data(ev, &len);
	char why[256];

	if (em->sink->full(em->sink->ctx, why, sizeof why)) {
		call_error(call, ERR_RATE, "%s", why);
		return;
	}
	pe = xmalloc(sizeof *pe + n + 1);
	pe->call = call;
	memcpy(pe->type, name, n + 1);
	em->sink->append(em->sink->ctx, name, data, len, plugin, false, committed, pe);
}

uint64_t emitter_limited(const struct emitter *em, const char *plugin)
{
	const struct bucket *b;

	LIST_FOREACH(b, &em->buckets, entry)
	if (strcmp(b->plugin, plugin) == 0)
		return b->limited;
	return 0;
}

/* A bare name: no namespace of the bus's in front. */
static bool bare(const char *event)
{
	static const char *const spaces[] = {"plugin.", "session.", "user.", "system."};

	for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++)
		if (strncmp(event, spaces[i], strlen(spaces[i])) == 0)
			return false;
	return true;
}

void emitter_call(void *arg, struct call *call, json_object *m)
{
	struct emitter *em = arg;
	const char *plugin = call_plugin(call), *event = msg_get_str(m, "event");
	json_object *data = NULL;
	struct bus_event *ev;
	char name[256], why[256], err[256];

	if (event == NULL) {
		call_error(call, ERR_BAD_REQUEST, "event: a string is required");
		return;
	}
	if (json_object_object_get_ex(m, "data", &data) &&
	    !json_object_is_type(data, json_type_object)) {
		call_error(call, ERR_BAD_REQUEST, "data must be an object");
		return;
	}
	if (strlen(event) > SS_EVENT_NAME_MAX) {
		call_error(call, ERR_BAD_REQUEST, "event name over %d bytes", SS_EVENT_NAME_MAX);
		return;
	}
	if (bare(event))
		snprintf(name, sizeof name, "plugin.%s.%s", plugin, event);
	else
		snprintf(name, sizeof name, "%s", event);
	if (grants_emit(call_permissions(call), plugin, name, why, sizeof why) < 0) {
		log_warn(plugin, "denied: %s", why);
		call_error(call, ERR_PERMISSION, "%s", why);
		return;
	}
	if (!take(em, bucket_of(em, plugin))) {
		call_error(call, ERR_RATE, "at most %.0f emits per second (burst %.0f)", em->rate,
			   em->burst);
		return;
	}
	ev = bus_prepare(em->bus, name, data, err, sizeof err);
	if (ev == NULL) {
		call_error(call, ERR_BAD_REQUEST, "%s", err);
		return;
	}
	if (em->sink != NULL) {
		/* Checked and serialised as the bus would; the outbox keeps these bytes. */
		emit_durable(em, call, plugin, name, ev);
		bus_discard(ev);
		return;
	}
	json_object *fields = json_object_new_object();
	msg_add_int(fields, "event_id", bus_commit_from(em->bus, ev, plugin));
	msg_add_str(fields, "type", name);
	call_ok(call, fields);
}
