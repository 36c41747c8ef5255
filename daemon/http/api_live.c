/*
 * The live views of the plugins the daemon runs (api_live.h).
 *
 * The stream is text/event-stream: on connect, one "state" event per
 * plugin and a "ready" event (the snapshot is complete), then a "state"
 * event each time a plugin's state, pid, restarts, crashes or last exit
 * change, "removed" when the daemon stops running one (disabled,
 * uninstalled), and a comment line every heartbeat. An event is formatted
 * once and queued to every client; a client that lets max_pending bytes
 * (--stream-max-pending, 512 KiB) pile up is disconnected (it reconnects
 * and gets a fresh snapshot), so a slow reader costs bounded memory and
 * never delays the others.
 *
 * Browsers' EventSource cannot send an Authorization header, and a token in
 * the URL would land in logs and history: the UI reads the stream with
 * fetch() and the same bearer header as every other call.
 */
#define _GNU_SOURCE
#include "api_live.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "api.h"
#include "clock.h"
#include "log.h"
#include "names.h"
#include "supervisor.h"
#include "xmalloc.h"

#define PREFIX "/api/plugins/marketplace/"
#define LIVE_PENDING_MAX (512 * 1024) /* bytes queued to one client before it is dropped */
#define LIVE_LOG_LINES 200	      /* what GET logs/{name} answers at most (hostlog keeps 200) */

struct client {
	struct api_live *live;
	struct api_stream *s;
	LIST_ENTRY(client) entry;
};

struct api_live {
	struct supervisor *sup;
	struct event *heartbeat;
	struct api_live_options o;
	LIST_HEAD(, client) clients;
	size_t n;
};

static void client_drop(struct client *c)
{
	LIST_REMOVE(c, entry);
	c->live->n--;
	free(c);
}

/* The client went away (or the server is freed): its stream is gone already. */
static void client_closed(void *arg)
{
	client_drop(arg);
}

/* "event: TYPE\ndata: JSON\n\n" (data consumed). json-c's plain form has no newline. */
static char *event_text(const char *type, json_object *data, size_t *len)
{
	char *text = xasprintf("event: %s\ndata: %s\n\n", type,
			       json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN));

	json_object_put(data);
	*len = strlen(text);
	return text;
}

/* Queues text to every client; one that cannot take it is dropped. */
static void broadcast(struct api_live *live, const char *text, size_t len)
{
	struct client *c, *next;

	for (c = LIST_FIRST(&live->clients); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (api_stream_write(c->s, text, len) < 0) {
			log_info("api", "a state stream client did not keep up: disconnected");
			client_drop(c);
		}
	}
}

/* The event for a plugin as it is now: its state, or that it is gone. */
static char *plugin_event(struct supervisor *sup, const char *name, size_t *len)
{
	json_object *o = supervisor_live(sup, name);

	if (o != NULL)
		return event_text("state", o, len);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	return event_text("removed", o, len);
}

/* The supervisor's watcher: a plugin changed. */
static void changed(void *arg, const char *name)
{
	struct api_live *live = arg;
	size_t len;
	char *text;

	if (live->n == 0)
		return;
	text = plugin_event(live->sup, name, &len);
	broadcast(live, text, len);
	free(text);
}

static void heartbeat(evutil_socket_t fd, short what, void *arg)
{
	static const char beat[] = ": keep-alive\n\n";

	(void)fd;
	(void)what;
	broadcast(arg, beat, sizeof beat - 1);
}

struct snapshot {
	struct client *c;
	size_t count;
	bool lost; /* the snapshot alone was more than the client may have pending */
};

static void snapshot_one(const struct supervisor_stats *st, void *arg)
{
	struct snapshot *snap = arg;
	size_t len;
	char *text;

	if (snap->lost)
		return;
	text = plugin_event(snap->c->live->sup, st->name, &len);
	if (api_stream_write(snap->c->s, text, len) < 0)
		snap->lost = true;
	else
		snap->count++;
	free(text);
}

/* GET stream: the snapshot, then every change, until the client goes. */
static void h_stream(struct api_req *req, const char *rest, void *arg)
{
	static const char hello[] = "retry: 2000\n\n";
	struct api_live *live = arg;
	struct snapshot snap = {0};
	struct client *c;
	json_object *ready;
	size_t len;
	char *text;

	(void)rest;
	if (strcmp(api_req_method(req), "HEAD") == 0) {
		api_reply_data(req, 200, "text/event-stream", NULL, 0);
		return;
	}
	if (live->n >= live->o.max_clients) {
		api_reply_error(req, 503, "too_many_streams",
				"%zu state streams are open, the most this daemon serves",
				live->o.max_clients);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->live = live;
	c->s = api_reply_stream(req, "text/event-stream", live->o.max_pending, client_closed, c);
	if (c->s == NULL) {
		free(c);
		return;
	}
	LIST_INSERT_HEAD(&live->clients, c, entry);
	live->n++;
	snap.c = c;
	if (api_stream_write(c->s, hello, sizeof hello - 1) == 0)
		supervisor_foreach(live->sup, snapshot_one, &snap);
	else
		snap.lost = true;
	if (snap.lost) {
		client_drop(c);
		return;
	}
	ready = json_object_new_object();
	json_object_object_add(ready, "count", json_object_new_int64((int64_t)snap.count));
	text = event_text("ready", ready, &len);
	if (api_stream_write(c->s, text, len) < 0)
		client_drop(c);
	free(text);
}

/* GET logs/{name}[?limit=N]: the plugin's recent log lines, oldest first. */
static void h_logs(struct api_req *req, const char *rest, void *arg)
{
	struct api_live *live = arg;
	char *limit = api_query_param(req, "limit"), *end = NULL;
	long max = LIVE_LOG_LINES;
	json_object *lines, *body;

	if (limit != NULL) {
		max = strtol(limit, &end, 10);
		if (end == limit || *end != '\0' || max < 1 || max > LIVE_LOG_LINES) {
			free(limit);
			api_reply_error(req, 400, "bad_request", "limit must be 1 to %d",
					LIVE_LOG_LINES);
			return;
		}
		free(limit);
	}
	if (!name_plugin_valid(rest)) {
		api_reply_error(req, 400, "bad_name", "invalid plugin name");
		return;
	}
	lines = supervisor_logs(live->sup, rest, (size_t)max);
	if (lines == NULL) {
		api_reply_error(req, 404, "not_found",
				"%s has no host here (not installed, or disabled): no log lines",
				rest);
		return;
	}
	body = json_object_new_object();
	json_object_object_add(body, "plugin", json_object_new_string(rest));
	json_object_object_add(body, "count",
			       json_object_new_int64((int64_t)json_object_array_length(lines)));
	json_object_object_add(body, "lines", lines);
	api_reply_json(req, 200, body);
}

struct api_live *api_live_new(struct event_base *base, struct api *api, struct supervisor *sup,
			      const struct api_live_options *o)
{
	struct api_live *live = xcalloc(1, sizeof *live);
	struct timeval tv;

	live->sup = sup;
	live->o = *o;
	if (live->o.max_clients == 0)
		live->o.max_clients = 16;
	if (live->o.heartbeat_ms <= 0)
		live->o.heartbeat_ms = 15000;
	if (live->o.max_pending == 0)
		live->o.max_pending = LIVE_PENDING_MAX;
	LIST_INIT(&live->clients);
	live->heartbeat = event_new(base, -1, EV_PERSIST, heartbeat, live);
	if (live->heartbeat == NULL)
		fatal("api_live_new: out of memory");
	tv = clock_tv(live->o.heartbeat_ms);
	evtimer_add(live->heartbeat, &tv);
	supervisor_watch(sup, changed, live);
	api_route(api, "GET", PREFIX "stream", false, API_ROLE_VIEWER, h_stream, live);
	api_route(api, "GET", PREFIX "logs/", true, API_ROLE_VIEWER, h_logs, live);
	return live;
}

void api_live_free(struct api_live *live)
{
	if (live == NULL)
		return;
	supervisor_unwatch(live->sup, changed, live);
	while (!LIST_EMPTY(&live->clients)) {
		struct client *c = LIST_FIRST(&live->clients);

		api_stream_close(c->s);
		client_drop(c);
	}
	event_free(live->heartbeat);
	free(live);
}
