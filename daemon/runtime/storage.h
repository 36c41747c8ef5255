/*
 * The storage service (PROTOCOL.md, "Storage"): answers a host's storage.*
 * calls with the statements of store/kv.c, bound to the plugin of the peer
 * the call came on, and sweeps expired keys periodically. Without a
 * database every call is answered unavailable.
 */
#ifndef SS_STORAGE_H
#define SS_STORAGE_H

#include "call.h"

struct event_base;
struct kv;
struct storage;

/* A service without a database: every call is answered unavailable until storage_attach. */
struct storage *storage_new(struct event_base *base, int sweep_ms);
/* Serves calls from kv (borrowed; it must outlive the service) and starts the sweep. */
void storage_attach(struct storage *st, struct kv *kv);
void storage_free(struct storage *st);

/* A call_fn for storage.get, .set, .delete and .list (arg: the service). */
void storage_call(void *arg, struct call *call, json_object *m);

#endif
