/*
 * The emit service (PROTOCOL.md, "Emit"): a plugin's emit call becomes an
 * event on the bus, accepted exactly as POST /api/events accepts one
 * (checked and serialised once by bus_prepare), after the permission rule
 * (grants_emit) and the plugin's token bucket.
 */
#ifndef SS_EMIT_H
#define SS_EMIT_H

#include "call.h"

struct bus;
struct emitter;

/* rate: emits per second per plugin; the burst is ten times that. */
struct emitter *emitter_new(struct bus *bus, int rate);
void emitter_free(struct emitter *em);

/* A call_fn for emit (arg: the emitter). */
void emitter_call(void *arg, struct call *call, json_object *m);

/* How many emits of plugin were refused for its rate (0 for an unknown plugin). */
uint64_t emitter_limited(const struct emitter *em, const char *plugin);

#endif
