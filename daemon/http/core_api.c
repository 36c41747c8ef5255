#include "core_api.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bus.h"
#include "jobs.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "ss_config.h"
#if SS_HAVE_LIBPQ
#include "api_replay.h"
#include "deliver.h"
#include "outbox.h"
#endif
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

#if SS_HAVE_LIBPQ
/* A request waiting for its group commit. */
struct durable_req {
	struct api_req *req;
	bool single; /* answer {"id"} rather than {"ids","count"} */
};

static void on_durable(const int64_t *ids, size_t n, const char *err, void *arg)
{
	struct durable_req *d = arg;
	json_object *reply;

	if (ids == NULL) {
		api_reply_error(d->req, 503, "unavailable", "events not stored: %s", err);
		free(d);
		return;
	}
	reply = json_object_new_object();
	if (d->single) {
		msg_add_int(reply, "id", ids[0]);
	} else {
		json_object *a = json_object_new_array_ext((int)n);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(a, json_object_new_int64(ids[i]));
		json_object_object_add(reply, "ids", a);
		msg_add_int(reply, "count", (int64_t)n);
	}
	api_reply_json(d->req, 202, reply);
	free(d);
}

/*
 * With a database the prepared events (checked and serialised as the bus
 * would) go to the outbox; 202 follows the commit. Consumes prepared[].
 */
static void append_durable(struct core_api *core, struct api_req *req, struct bus_event **prepared,
			   size_t n, bool single)
{
	const char **types = xcalloc(n, sizeof *types), **data = xcalloc(n, sizeof *data);
	size_t *len = xcalloc(n, sizeof *len);
	struct durable_req *d = xcalloc(1, sizeof *d);

	for (size_t i = 0; i < n; i++) {
		types[i] = bus_event_type(prepared[i]);
		data[i] = bus_event_data(prepared[i], &len[i]);
	}
	d->req = req;
	d->single = single;
	if (outbox_append(core->outbox, n, types, data, len, on_durable, d) < 0) {
		free(d);
		api_reply_error(req, 503, "unavailable", "the database is unavailable");
	}
	for (size_t i = 0; i < n; i++) {
		bus_discard(prepared[i]);
		prepared[i] = NULL;
	}
	free(types);
	free(data);
	free(len);
}
#endif

/* Whether the intake must refuse n more events now (it answered 503 if so). */
static bool intake_full(struct core_api *core, struct api_req *req, size_t n)
{
#if SS_HAVE_LIBPQ
	/*
	 * With a database the bus still holds what this daemon delivers: its
	 * byte bound refuses at the door too (below), as without one.
	 */
	if (core->outbox != NULL && !bus_full(core->bus, 0)) {
		int64_t backlog = core->deliver ? deliver_backlog(core->deliver) : -1;

		if (core->backlog_max > 0 && backlog >= core->backlog_max) {
			/* The outbox grows faster than plugins take it: shed at the door. */
			core->shed_backlog += n;
			api_reply_error(req, 503, "backlog_full",
					"%" PRId64 " events are waiting for delivery (the bound is "
					"%" PRId64 "): try again shortly",
					backlog, core->backlog_max);
			return true;
		}
		if (outbox_pending(core->outbox) + n <= core->outbox_pending_max)
			return false;
		api_reply_error(req, 503, "overloaded",
				"too many events waiting for the database: try again shortly");
		return true;
	}
#endif
	if (!bus_full(core->bus, n))
		return false;
	api_reply_error(req, 503, "bus_full",
			"the event bus is full: events are not accepted until plugins catch up");
	return true;
}

/*
 * POST /api/events: one event object, or an array of them accepted all or
 * none: every event is prepared (checked and serialised) before the first
 * is committed (in memory: a commit cannot fail; with a database: the whole
 * request is one statement's rows).
 */
static void post_events(struct api_req *req, const char *rest, void *arg)
{
	struct core_api *core = arg;
	json_object *body = NULL, *reply;
	struct bus_event **prepared = NULL;
	char err[256], *text;
	size_t n = 0, i, len;

	if (core->draining) {
		api_reply_error(req, 503, "shutting_down", "the daemon is shutting down");
		return;
	}
	if (api_read_json(req, false, &body) < 0)
		return;
	if (!json_object_is_type(body, json_type_array)) {
		struct bus_event *ev;
		if (intake_full(core, req, 1))
			goto out;
		ev = prepare_event(core->bus, body, err, sizeof err);
		if (ev == NULL) {
			api_reply_error(req, 400, "bad_event", "%s", err);
			goto out;
		}
#if SS_HAVE_LIBPQ
		if (core->outbox != NULL) {
			append_durable(core, req, &ev, 1, true);
			goto out;
		}
#endif
		reply = json_object_new_object();
		msg_add_int(reply, "id", bus_commit(core->bus, ev));
		api_reply_json(req, 202, reply);
		goto out;
	}
	n = json_object_array_length(body);
	if (intake_full(core, req, n ? n : 1)) {
		n = 0;
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
#if SS_HAVE_LIBPQ
	if (core->outbox != NULL) {
		append_durable(core, req, prepared, n, false);
		goto out;
	}
#endif
	/*
	 * {"ids":[...],"count":n} written as text: a json-c array of a
	 * thousand ints, built to be printed and freed, cost more than the
	 * commits.
	 */
	text = xmalloc(n * 21 + 48);
	len = (size_t)sprintf(text, "{\"ids\":[");
	for (i = 0; i < n; i++) {
		len += (size_t)sprintf(text + len, "%s%" PRId64, i ? "," : "",
				       bus_commit(core->bus, prepared[i]));
		prepared[i] = NULL;
	}
	len += (size_t)sprintf(text + len, "],\"count\":%zu}\n", n);
	api_reply_data(req, 202, "application/json", text, len);
	free(text);
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

/* The job series, one family at a time (w->m names it; job_metrics). */
struct job_metric {
	const char *name, *type;
	uint64_t (*get)(const struct job_stats *st);
};
static uint64_t j_runs(const struct job_stats *st)
{
	return st->runs;
}
static uint64_t j_skipped(const struct job_stats *st)
{
	return st->skipped;
}
static uint64_t j_failed(const struct job_stats *st)
{
	return st->failed;
}
static uint64_t j_running(const struct job_stats *st)
{
	return st->running;
}
static uint64_t j_scheduled(const struct job_stats *st)
{
	return st->scheduled;
}
static uint64_t j_last_run(const struct job_stats *st)
{
	return (uint64_t)(st->last_run_ms / 1000);
}
static const struct job_metric job_metrics[] = {
    {"runs_total", "counter", j_runs},	   {"skipped_total", "counter", j_skipped},
    {"failed_total", "counter", j_failed}, {"running", "gauge", j_running},
    {"scheduled", "gauge", j_scheduled},   {"last_run_timestamp_seconds", "gauge", j_last_run},
};

struct job_walk {
	FILE *buf;
	const struct job_metric *m;
};

static void job_line(const struct job_stats *st, void *arg)
{
	struct job_walk *w = arg;

	fprintf(w->buf, "streamspace_job_%s{plugin=\"%s\",job=\"%s\"} %" PRIu64 "\n", w->m->name,
		st->plugin, st->name, w->m->get(st));
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
	{
		uint64_t holds, expired;

		bus_pressure_counts(core->bus, &holds, &expired);
		fprintf(w.buf, "# TYPE streamspace_ingress_holds_total counter\n");
		fprintf(w.buf, "streamspace_ingress_holds_total %" PRIu64 "\n", holds);
		fprintf(w.buf, "# TYPE streamspace_ingress_holds_expired_total counter\n");
		fprintf(w.buf, "streamspace_ingress_holds_expired_total %" PRIu64 "\n", expired);
	}
	if (core->database_up != NULL) {
		fprintf(w.buf, "# TYPE streamspace_database_up gauge\n");
		fprintf(w.buf, "streamspace_database_up %d\n",
			core->database_up(core->database_arg) ? 1 : 0);
	}
#if SS_HAVE_LIBPQ
	if (core->outbox != NULL) {
		struct outbox_stats os;

		outbox_stats(core->outbox, &os);
		fprintf(w.buf, "# TYPE streamspace_outbox_commits_total counter\n");
		fprintf(w.buf, "streamspace_outbox_commits_total %" PRIu64 "\n", os.commits);
		fprintf(w.buf, "# TYPE streamspace_outbox_events_total counter\n");
		fprintf(w.buf, "streamspace_outbox_events_total %" PRIu64 "\n", os.events);
		fprintf(w.buf, "# TYPE streamspace_outbox_failed_total counter\n");
		fprintf(w.buf, "streamspace_outbox_failed_total %" PRIu64 "\n", os.failed);
		fprintf(w.buf, "# TYPE streamspace_outbox_handed_total counter\n");
		fprintf(w.buf, "streamspace_outbox_handed_total %" PRIu64 "\n", os.handed);
		fprintf(w.buf, "# TYPE streamspace_outbox_pending gauge\n");
		fprintf(w.buf, "streamspace_outbox_pending %zu\n", outbox_pending(core->outbox));
	}
	if (core->deliver != NULL) {
		struct deliver_stats ds;

		deliver_stats(core->deliver, &ds);
		fprintf(w.buf, "# TYPE streamspace_outbox_backlog gauge\n");
		fprintf(w.buf, "streamspace_outbox_backlog %" PRId64 "\n",
			deliver_backlog(core->deliver));
		fprintf(w.buf, "# TYPE streamspace_events_shed_backlog_total counter\n");
		fprintf(w.buf, "streamspace_events_shed_backlog_total %" PRIu64 "\n",
			core->shed_backlog);
		fprintf(w.buf, "# TYPE streamspace_delivery_owned gauge\n");
		fprintf(w.buf, "streamspace_delivery_owned %zu\n", ds.owned);
		fprintf(w.buf, "# TYPE streamspace_delivery_takeovers_total counter\n");
		fprintf(w.buf, "streamspace_delivery_takeovers_total %" PRIu64 "\n", ds.takeovers);
		fprintf(w.buf, "# TYPE streamspace_delivery_lost_total counter\n");
		fprintf(w.buf, "streamspace_delivery_lost_total %" PRIu64 "\n", ds.lost);
		fprintf(w.buf, "# TYPE streamspace_delivery_cursor_writes_total counter\n");
		fprintf(w.buf, "streamspace_delivery_cursor_writes_total %" PRIu64 "\n",
			ds.cursor_writes);
		fprintf(w.buf, "# TYPE streamspace_delivery_catchup_reads_total counter\n");
		fprintf(w.buf, "streamspace_delivery_catchup_reads_total %" PRIu64 "\n",
			ds.catchup_reads);
		fprintf(w.buf, "# TYPE streamspace_delivery_catchup_memory_total counter\n");
		fprintf(w.buf, "streamspace_delivery_catchup_memory_total %" PRIu64 "\n",
			ds.catchup_mem);
		fprintf(w.buf, "# TYPE streamspace_outbox_retention_deleted_total counter\n");
		fprintf(w.buf, "streamspace_outbox_retention_deleted_total %" PRIu64 "\n",
			ds.retention_deleted);
	}
#endif
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
	/* Names are plugin names and [a-z0-9_.-] job names: nothing to escape. */
	for (size_t c = 0; core->jobs != NULL && c < sizeof job_metrics / sizeof job_metrics[0];
	     c++) {
		struct job_walk jw = {.buf = w.buf, .m = &job_metrics[c]};

		fprintf(w.buf, "# TYPE streamspace_job_%s %s\n", jw.m->name, jw.m->type);
		jobs_foreach(core->jobs, job_line, &jw);
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
	/* What a plugin behind on the bus is behind on: the bus's hold keeps it (gate.h). */
	api_route_held(api, "POST", "/api/events");
	api_route(api, "GET", "/api/plugins/marketplace/installed/", true, API_ROLE_VIEWER,
		  installed_one, core);
#if SS_HAVE_LIBPQ
	api_replay_register(api, &core->deliver);
#endif
}
