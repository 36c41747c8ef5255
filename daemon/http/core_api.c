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

/* Checks one event of a request; 0, or -1 with why. */
static int check_event(struct bus *bus, json_object *ev, char *err, size_t errlen)
{
	json_object *data = NULL;
	struct json_object_iter it;
	const char *type;

	if (!json_object_is_type(ev, json_type_object)) {
		snprintf(err, errlen, "an event must be an object {\"type\", \"data\"}");
		return -1;
	}

	json_object_object_foreachC(ev, it)
	{
		if (strcmp(it.key, "type") != 0 && strcmp(it.key, "data") != 0) {
			snprintf(err, errlen, "unknown field \"%.64s\"", it.key);
			return -1;
		}
	}
	type = msg_get_str(ev, "type");
	if (type == NULL) {
		snprintf(err, errlen, "\"type\" (a string) is required");
		return -1;
	}
	json_object_object_get_ex(ev, "data", &data);
	return bus_validate(bus, type, data, err, errlen);
}

/*
 * POST /api/events: one event object, or an array of them accepted all or
 * none. Every event is checked before the first is published.
 */
static void post_events(struct api_req *req, const char *rest, void *arg)
{
	struct core_api *core = arg;
	json_object *body = NULL, *ids, *reply;
	char err[256];
	size_t n;

	if (core->draining) {
		api_reply_error(req, 503, "shutting_down", "the daemon is shutting down");
		return;
	}
	if (api_read_json(req, false, &body) < 0)
		return;
	if (!json_object_is_type(body, json_type_array)) {
		if (check_event(core->bus, body, err, sizeof err) < 0) {
			api_reply_error(req, 400, "bad_event", "%s", err);
			goto out;
		}
		json_object *data = NULL;
		json_object_object_get_ex(body, "data", &data);
		int64_t id = bus_publish(core->bus, msg_get_str(body, "type"), data);
		if (id < 0) {
			api_reply_error(req, 413, "too_large", "event over the frame limit");
			goto out;
		}
		reply = json_object_new_object();
		msg_add_int(reply, "id", id);
		api_reply_json(req, 202, reply);
		goto out;
	}
	n = json_object_array_length(body);
	if (n == 0) {
		api_reply_error(req, 400, "bad_event", "empty batch");
		goto out;
	}
	if (n > core->batch_max) {
		api_reply_error(req, 413, "too_large", "at most %zu events per request",
				core->batch_max);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (check_event(core->bus, json_object_array_get_idx(body, i), err, sizeof err) <
		    0) {
			api_reply_error(req, 400, "bad_event", "event %zu: %s", i, err);
			goto out;
		}
	}
	ids = json_object_new_array_ext((int)n);
	for (size_t i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(body, i), *data = NULL;
		json_object_object_get_ex(ev, "data", &data);
		/* Checked above, so this cannot fail: the batch is all or none. */
		int64_t id = bus_publish(core->bus, msg_get_str(ev, "type"), data);
		json_object_array_add(ids, json_object_new_int64(id));
	}
	reply = json_object_new_object();
	json_object_object_add(reply, "ids", ids);
	msg_add_int(reply, "count", (int64_t)n);
	api_reply_json(req, 202, reply);
out:
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

/* Prometheus text format, the counters an operator alerts on. */
static void metrics(struct api_req *req, const char *rest, void *arg)
{
	struct core_api *core = arg;
	char *text = NULL;
	size_t len = 0;
	FILE *buf = open_memstream(&text, &len);
	json_object *all;
	static const char *const counters[] = {"delivered", "failed",	"dropped",    "poisoned",
					       "crashes",   "restarts", "queue_depth"};

	if (buf == NULL)
		fatal("metrics: open_memstream: %s", strerror(errno));
	all = supervisor_status_all(core->sup);
	fprintf(buf, "# TYPE streamspace_events_accepted_total counter\n");
	fprintf(buf, "streamspace_events_accepted_total %" PRIu64 "\n", bus_accepted(core->bus));
	if (core->database_up != NULL) {
		fprintf(buf, "# TYPE streamspace_database_up gauge\n");
		fprintf(buf, "streamspace_database_up %d\n",
			core->database_up(core->database_arg) ? 1 : 0);
	}
	for (size_t c = 0; c < sizeof counters / sizeof counters[0]; c++) {
		fprintf(buf, "# TYPE streamspace_plugin_%s %s\n", counters[c],
			strcmp(counters[c], "queue_depth") == 0 ? "gauge" : "counter");
		for (size_t i = 0; i < json_object_array_length(all); i++) {
			json_object *p = json_object_array_get_idx(all, i);
			int64_t v = 0;
			msg_get_int(p, counters[c], &v);
			fprintf(buf, "streamspace_plugin_%s{plugin=\"%s\"} %" PRId64 "\n",
				counters[c], msg_get_str(p, "name"), v);
		}
	}
	fprintf(buf, "# TYPE streamspace_plugin_up gauge\n");
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *p = json_object_array_get_idx(all, i);
		const char *state = msg_get_str(p, "state");
		fprintf(buf, "streamspace_plugin_up{plugin=\"%s\"} %d\n", msg_get_str(p, "name"),
			state != NULL && strcmp(state, "running") == 0);
	}
	json_object_put(all);
	if (fclose(buf) != 0)
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
