/*
 * The call table of one peer: which service answers which call type, with
 * which permission and timeout, and the one call outstanding.
 */
#define _GNU_SOURCE
#include "call.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "clock.h"
#include "grants.h"
#include "log.h"
#include "xmalloc.h"

struct calls {
	struct event_base *base;
	struct calls_owner owner;
	struct bus_sub *sub;
	char *plugin;
	json_object *perms;
	const struct call_services *services;
	struct call *current; /* outstanding, or NULL */
};

struct call {
	struct calls *cs; /* NULL once answered to the host (timeout) or orphaned */
	int64_t id;
	enum msg_type type;
	int64_t since_ms; /* when it arrived: the event deadline paused from then */
	char *plugin;
	json_object *perms;
	struct event *timer;
};

/* The host has its answer: the event deadline runs again, shifted by the pause. */
static void release(struct calls *cs, struct call *call)
{
	int64_t ms = clock_mono_ms() - call->since_ms;

	bus_sub_pause(cs->sub, ms);
	if (cs->owner.paused != NULL)
		cs->owner.paused(cs->owner.peer, ms);
	cs->current = NULL;
	call->cs = NULL;
	evtimer_del(call->timer);
}

static void call_free(struct call *call)
{
	event_free(call->timer);
	json_object_put(call->perms);
	free(call->plugin);
	free(call);
}

/* Sends reply (consumed) when the host still waits for it, and frees the call. */
static void answer(struct call *call, json_object *reply)
{
	struct calls *cs = call->cs;

	if (cs != NULL) {
		release(cs, call);
		cs->owner.send(cs->owner.peer, reply);
	} else {
		json_object_put(reply);
	}
	call_free(call);
}

void call_ok(struct call *call, json_object *fields)
{
	json_object *reply = msg_reply_ok(call->id);

	if (fields != NULL) {
		json_object_object_foreach(fields, k, v)
		    json_object_object_add(reply, k, json_object_get(v));
		json_object_put(fields);
	}
	answer(call, reply);
}

void call_error(struct call *call, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	answer(call, msg_reply_error(call->id, code, msg));
}

const char *call_plugin(const struct call *call)
{
	return call->plugin;
}

json_object *call_permissions(const struct call *call)
{
	return call->perms;
}

enum msg_type call_type(const struct call *call)
{
	return call->type;
}

struct peer *call_peer(const struct call *call)
{
	return call->cs != NULL ? call->cs->owner.peer : NULL;
}

/* The service's time is up: the host hears timeout, the late answer is dropped. */
static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *call = arg;
	struct calls *cs = call->cs;
	char msg[128];

	if (cs == NULL)
		return;
	release(cs, call);
	snprintf(msg, sizeof msg, "%s: the daemon did not finish within %" PRId64 " ms",
		 msg_type_name(call->type), clock_mono_ms() - call->since_ms);
	log_warn(cs->plugin, "%s", msg);
	cs->owner.send(cs->owner.peer, msg_reply_error(call->id, ERR_TIMEOUT, msg));
}

static const struct call_service *service_of(const struct calls *cs, enum msg_type t)
{
	for (size_t i = 0; cs->services != NULL && i < cs->services->n; i++)
		if (cs->services->rows[i].type == t)
			return &cs->services->rows[i];
	return NULL;
}

void calls_arrive(struct calls *cs, json_object *m)
{
	enum msg_type t = msg_type_of(m);
	const struct call_service *svc = service_of(cs, t);
	struct timeval tv;
	struct call *call;
	int64_t id;

	if (!msg_get_int(m, "id", &id)) {
		cs->owner.end(cs->owner.peer, CAUSE_PROTOCOL, "%s without id", msg_type_name(t));
		return;
	}
	if (cs->current != NULL) {
		cs->owner.end(cs->owner.peer, CAUSE_PROTOCOL,
			      "%s while call %" PRId64 " is outstanding", msg_type_name(t),
			      cs->current->id);
		return;
	}
	if (svc == NULL) {
		char msg[96];
		snprintf(msg, sizeof msg, "%s is not served by this daemon", msg_type_name(t));
		cs->owner.send(cs->owner.peer, msg_reply_error(id, ERR_UNIMPLEMENTED, msg));
		return;
	}
	if (svc->permission != NULL && !grants_has(cs->perms, svc->permission)) {
		char msg[128];
		snprintf(msg, sizeof msg, "%s needs the \"%s\" permission", msg_type_name(t),
			 svc->permission);
		log_warn(cs->plugin, "denied: %s", msg);
		cs->owner.send(cs->owner.peer, msg_reply_error(id, ERR_PERMISSION, msg));
		return;
	}
	call = xcalloc(1, sizeof *call);
	call->cs = cs;
	call->id = id;
	call->type = t;
	call->since_ms = clock_mono_ms();
	call->plugin = xstrdup(cs->plugin);
	call->perms = json_object_get(cs->perms);
	call->timer = evtimer_new(cs->base, timeout_cb, call);
	if (call->timer == NULL)
		fatal("calls_arrive: out of memory");
	tv = clock_tv(svc->timeout_ms);
	evtimer_add(call->timer, &tv);
	cs->current = call;
	svc->fn(svc->arg, call, m);
}

bool calls_busy(const struct calls *cs)
{
	return cs->current != NULL;
}

struct calls *calls_new(struct event_base *base, const struct calls_owner *owner,
			struct bus_sub *sub, const char *plugin, json_object *perms,
			const struct call_services *services)
{
	struct calls *cs = xcalloc(1, sizeof *cs);

	cs->base = base;
	cs->owner = *owner;
	cs->sub = sub;
	cs->plugin = xstrdup(plugin);
	cs->perms = json_object_get(perms);
	cs->services = services;
	return cs;
}

void calls_free(struct calls *cs)
{
	if (cs == NULL)
		return;
	if (cs->current != NULL) {
		evtimer_del(cs->current->timer);
		cs->current->cs = NULL;
	}
	json_object_put(cs->perms);
	free(cs->plugin);
	free(cs);
}
