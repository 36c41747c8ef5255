/*
 * The emit service (PROTOCOL.md, "Emit"): a plugin's emit call becomes an
 * event on the bus, accepted exactly as POST /api/events accepts one
 * (checked and serialised once by bus_prepare), after the permission rule
 * (grants_emit) and the plugin's token bucket. With a database (a sink,
 * sink.h) it goes to the durable outbox instead, and the plugin is answered
 * once it is committed (its id is the outbox's).
 */
#ifndef SS_EMIT_H
#define SS_EMIT_H

#include "call.h"

struct bus;
struct emitter;
struct event_sink;

/* rate: emits per second per plugin; the burst is ten times that. */
struct emitter *emitter_new(struct bus *bus, int rate);
void emitter_free(struct emitter *em);
/* From now on emits go to sink (borrowed; NULL: the bus again). */
void emitter_set_sink(struct emitter *em, const struct event_sink *sink);

/* A call_fn for emit (arg: the emitter). */
void emitter_call(void *arg, struct call *call, json_object *m);

/* How many emits of plugin were refused for its rate (0 for an unknown plugin). */
uint64_t emitter_limited(const struct emitter *em, const char *plugin);

#endif
