#include "core_api.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bus.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "supervisor.h"
#include "xmalloc.h"

static void healthz(struct api_req *req, const char *rest, void *arg)
{
	json_object *o = json_object_new_object();
	msg_add_str(o, "status", "ok");
	api_reply_json(req, 200, o);
}

static void readyz(struct api_req *req, const char *rest, void *arg)
{
	struct core_api *core = arg;
	json_object *o;

	if (core->draining) {
		api_reply_error(req, 503, "shutting_down", "the daemon is shutting down");
		return;
	}
	/* Without its database the daemon cannot change plugins: not ready. */
	if (core->database_up != NULL && !core->database_up(core->database_arg)) {
		api_reply_error(req, 503, "unavailable", "the database is unavailable");
		return;
	}
	o = json_object_new_object();
	msg_add_str(o, "status", "ready");
	api_reply_json(req, 200, o);
}

/* Checks and serialises one event of a request; NULL with why. */
static struct bus_event *prepare_event(struct bus *bus, json_object *ev, char *err, size_t errlen)
{
	json_object *data = NULL;
	struct json_object_iter it;
	const char *type;

	if (!json_object_is_type(ev, json_type_object)) {
		snprintf(err, errlen, "an event must be an object {\"type\", \"data\"}");
		return NULL;
	}

	json_object_object_foreachC(ev, it)
	{
		if (strcmp(it.key, "type") != 0 && strcmp(it.key, "data") != 0) {
			snprintf(err, errlen, "unknown field \"%.64s\"", it.key);
			return NULL;
		}
	}
	type = msg_get_str(ev, "type");
	if (type == NULL) {
		snprintf(err, errlen, "\"type\" (a string) is required");
		return NULL;
	}
	json_object_object_get_ex(ev, "data", &data);
	return bus_prepare(bus, type, data, err, errlen);
}

/*
 * POST /api/events: one event object, or an array of them accepted all or
 * none: every event is prepared (checked and serialised) before the first
 * is committed, and a commit cannot fail.
 */
static void post_events(struct api_req *req, const char *rest, void *arg)
{
	struct core_api *core = arg;
	json_object *body = NULL, *ids, *reply;
	struct bus_event **prepared = NULL;
	char err[256];
	size_t n = 0, i;

	if (core->draining) {
		api_reply_error(req, 503, "shutting_down", "the daemon is shutting down");
		return;
	}
	if (api_read_json(req, false, &body) < 0)
		return;
	if (!json_object_is_type(body, json_type_array)) {
		struct bus_event *ev;
		if (bus_full(core->bus, 1)) {
			api_reply_error(
			    req, 503, "bus_full",
			    "the event bus is full: events are not accepted until plugins "
			    "catch up");
			goto out;
		}
		ev = prepare_event(core->bus, body, err, sizeof err);
		if (ev == NULL) {
			api_reply_error(req, 400, "bad_event", "%s", err);
			goto out;
		}
		reply = json_object_new_object();
		msg_add_int(reply, "id", bus_commit(core->bus, ev));
		api_reply_json(req, 202, reply);
		goto out;
	}
	n = json_object_array_length(body);
	if (bus_full(core->bus, n ? n : 1)) {
		n = 0;
		api_reply_error(
		    req, 503, "bus_full",
		    "the event bus is full: events are not accepted until plugins catch up");
		goto out;
	}
	if (n == 0) {
		api_reply_error(req, 400, "bad_event", "empty batch");
		goto out;
	}
	if (n > core->batch_max) {
		api_reply_error(req, 413, "too_large", "at most %zu events per request",
				core->batch_max);
		goto out;
	}
	prepared = xcalloc(n, sizeof *prepared);
	for (i = 0; i < n; i++) {
		prepared[i] =
		    prepare_event(core->bus, json_object_array_get_idx(body, i), err, sizeof err);
		if (prepared[i] == NULL) {
			api_reply_error(req, 400, "bad_event", "event %zu: %s", i, err);
			goto out;
		}
	}
	ids = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++) {
		json_object_array_add(ids,
				      json_object_new_int64(bus_commit(core->bus, prepared[i])));
		prepared[i] = NULL;
	}
	reply = json_object_new_object();
	json_object_object_add(reply, "ids", ids);
	msg_add_int(reply, "count", (int64_t)n);
	api_reply_json(req, 202, reply);
out:
	for (i = 0; prepared != NULL && i < n; i++)
		bus_discard(prepared[i]);
	free(prepared);
	json_object_put(body);
}

static void installed_list(struct api_req *req, const char *rest, void *arg)
{
	struct core_api *core = arg;
	json_object *o = json_object_new_object(), *all = supervisor_status_all(core->sup);

	msg_add_int(o, "count", (int64_t)json_object_array_length(all));
	json_object_object_add(o, "plugins", all);
	api_reply_json(req, 200, o);
}

static void installed_one(struct api_req *req, const char *rest, void *arg)
{
	struct core_api *core = arg;
	json_object *st;

	if (rest[0] == '\0') {
		installed_list(req, rest, arg);
		return;
	}
	if (!name_plugin_valid(rest)) {
		api_reply_error(req, 400, "bad_name", "invalid plugin name");
		return;
	}
	st = supervisor_status(core->sup, rest);
	if (st == NULL) {
		api_reply_error(req, 404, "not_found", "plugin %s is not running here", rest);
		return;
	}
	api_reply_json(req, 200, st);
}

/*
 * /metrics, Prometheus text format: the counters an operator alerts on. The
 * event series come from the bus's accounts, which outlive a plugin being
 * disabled or uninstalled; the process series from the supervisor.
 */
struct metric {
	const char *name, *type;
	uint64_t (*get)(const void *st);
};

#define EV_METRIC(field)                                                                           \
	static uint64_t m_##field(const void *st)                                                  \
	{                                                                                          \
		return ((const struct bus_sub_stats *)st)->field;                                  \
	}
#define SUP_METRIC(field)                                                                          \
	static uint64_t m_##field(const void *st)                                                  \
	{                                                                                          \
		return ((const struct supervisor_stats *)st)->field;                               \
	}
EV_METRIC(accepted)
EV_METRIC(delivered)
EV_METRIC(failed)
EV_METRIC(dropped)
EV_METRIC(poisoned)
EV_METRIC(queued)
EV_METRIC(inflight)
EV_METRIC(bytes)
SUP_METRIC(crashes)
SUP_METRIC(restarts)

static uint64_t m_up(const void *st)
{
	return ((const struct supervisor_stats *)st)->state == SUP_RUNNING;
}

static const struct metric event_metrics[] = {
    {"accepted", "counter", m_accepted}, {"delivered", "counter", m_delivered},
    {"failed", "counter", m_failed},	 {"dropped", "counter", m_dropped},
    {"poisoned", "counter", m_poisoned}, {"queue_depth", "gauge", m_queued},
    {"inflight", "gauge", m_inflight},	 {"queue_bytes", "gauge", m_bytes},
};
static const struct metric process_metrics[] = {
    {"crashes", "counter", m_crashes},
    {"restarts", "counter", m_restarts},
    {"up", "gauge", m_up},
};

struct metrics_walk {
	FILE *buf;
	const struct metric *m;
	int reason; /* for the dropped-by-reason series */
};

static void event_line(const char *name, const struct bus_sub_stats *st, void *arg)
{
	struct metrics_walk *w = arg;
	if (w->m == NULL)
		fprintf(w->buf,
			"streamspace_plugin_dropped_by{plugin=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
			name, bus_drop_name(w->reason), st->dropped_by[w->reason]);
	else
		fprintf(w->buf, "streamspace_plugin_%s{plugin=\"%s\"} %" PRIu64 "\n", w->m->name,
			name, w->m->get(st));
}

static void process_line(const struct supervisor_stats *st, void *arg)
{
	struct metrics_walk *w = arg;
	fprintf(w->buf, "streamspace_plugin_%s{plugin=\"%s\"} %" PRIu64 "\n", w->m->name, st->name,
		w->m->get(st));
}

static void metrics(struct api_req *req, const char *rest, void *arg)
{
	struct core_api *core = arg;
	char *text = NULL;
	size_t len = 0;
	struct metrics_walk w = {.buf = open_memstream(&text, &len)};

	if (w.buf == NULL)
		fatal("metrics: open_memstream: %s", strerror(errno));
	fprintf(w.buf, "# TYPE streamspace_events_accepted_total counter\n");
	fprintf(w.buf, "streamspace_events_accepted_total %" PRIu64 "\n", bus_accepted(core->bus));
	fprintf(w.buf, "# TYPE streamspace_events_shed_total counter\n");
	fprintf(w.buf, "streamspace_events_shed_total %" PRIu64 "\n", bus_shed(core->bus));
	if (core->database_up != NULL) {
		fprintf(w.buf, "# TYPE streamspace_database_up gauge\n");
		fprintf(w.buf, "streamspace_database_up %d\n",
			core->database_up(core->database_arg) ? 1 : 0);
	}
	for (size_t c = 0; c < sizeof event_metrics / sizeof event_metrics[0]; c++) {
		w.m = &event_metrics[c];
		fprintf(w.buf, "# TYPE streamspace_plugin_%s %s\n", w.m->name, w.m->type);
		bus_foreach(core->bus, event_line, &w);
	}
	w.m = NULL;
	fprintf(w.buf, "# TYPE streamspace_plugin_dropped_by counter\n");
	for (w.reason = 0; w.reason < BUS_DROP_COUNT; w.reason++)
		bus_foreach(core->bus, event_line, &w);
	for (size_t c = 0; c < sizeof process_metrics / sizeof process_metrics[0]; c++) {
		w.m = &process_metrics[c];
		fprintf(w.buf, "# TYPE streamspace_plugin_%s %s\n", w.m->name, w.m->type);
		supervisor_foreach(core->sup, process_line, &w);
	}
	if (fclose(w.buf) != 0)
		fatal("metrics: writing the page: %s", strerror(errno));
	api_reply_data(req, 200, "text/plain; version=0.0.4", text, len);
	free(text);
}

void core_api_register(struct api *api, struct core_api *core)
{
	if (core->batch_max == 0)
		core->batch_max = 10000;
	api_route(api, "GET", "/healthz", false, API_ROLE_NONE, healthz, core);
	api_route(api, "GET", "/readyz", false, API_ROLE_NONE, readyz, core);
	api_route(api, "GET", "/metrics", false, API_ROLE_NONE, metrics, core);
	api_route(api, "POST", "/api/events", false, API_ROLE_SERVICE, post_events, core);
	api_route(api, "GET", "/api/plugins/marketplace/installed/", true, API_ROLE_VIEWER,
		  installed_one, core);
}
