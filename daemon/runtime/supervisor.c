/*
 * The set of plugins the daemon runs and the verbs by name: each plugin is
 * a runner (runner.c), each of its hosts a host (host.c). What is decided
 * here: whether a spec can be run at all, the daemon's defaults, and the
 * shutdown drain.
 */
#define _GNU_SOURCE
#include "supervisor.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "frame.h"
#include "log.h"
#include "names.h"
#include "runner.h"
#include "startq.h"
#include "xmalloc.h"

#define SHUTDOWN_POLL_MS 20

struct supervisor {
	struct runner_set set;
	struct event *shutdown_timer;
	int64_t shutdown_deadline_ms;
	void (*shutdown_done)(void *);
	void *shutdown_arg;
};

static const char *const state_names[SUP_STATE_COUNT] = {"starting", "running", "stopping",
							 "crashed",  "failed",	"stopped"};

const char *supervisor_state_name(enum supervisor_state st)
{
	return (unsigned)st < SUP_STATE_COUNT ? state_names[st] : "unknown";
}

static int opt_or(int v, int def)
{
	return v > 0 ? v : def;
}

struct supervisor *supervisor_new(struct event_base *base, struct bus *bus,
				  const struct supervisor_options *opts)
{
	struct supervisor *sup = xcalloc(1, sizeof *sup);
	struct supervisor_options *o = &sup->set.o;

	sup->set.base = base;
	sup->set.bus = bus;
	*o = *opts;
	o->max_frame = o->max_frame ? o->max_frame : FRAME_MAX_DEFAULT;
	o->handshake_timeout_ms = opt_or(opts->handshake_timeout_ms, 5000);
	o->event_timeout_ms = opt_or(opts->event_timeout_ms, 5000);
	o->ping_interval_ms = opt_or(opts->ping_interval_ms, 10000);
	o->ping_timeout_ms = opt_or(opts->ping_timeout_ms, 5000);
	o->stop_timeout_ms = opt_or(opts->stop_timeout_ms, 3000);
	o->backoff_initial_ms = opt_or(opts->backoff_initial_ms, 100);
	o->backoff_max_ms = opt_or(opts->backoff_max_ms, 30000);
	o->crash_limit = opt_or(opts->crash_limit, 5);
	o->crash_window_ms = opt_or(opts->crash_window_ms, 60000);
	o->max_starting = opt_or(opts->max_starting, SUPERVISOR_MAX_STARTING);
	o->host_path = xstrdup(opts->host_path);
	TAILQ_INIT(&sup->set.list);
	sup->set.startq = startq_new(base, (size_t)o->max_starting);
	return sup;
}

int supervisor_run(struct supervisor *sup, const struct plugin_spec *spec, supervisor_done_fn done,
		   void *arg, char *err, size_t errlen)
{
	const char *builtin = spec->path ? name_builtin(spec->path) : NULL;

	if (!name_plugin_valid(spec->name)) {
		snprintf(err, errlen, "invalid plugin name");
		return -1;
	}
	if (builtin != NULL) {
		/* Compiled into the host: the host checks that it has it. */
		if (strcmp(builtin, spec->name) != 0) {
			snprintf(err, errlen, "%s does not name the built-in %s", spec->path,
				 spec->name);
			return -1;
		}
	} else if (spec->path == NULL || spec->path[0] != '/') {
		snprintf(err, errlen, "plugin path must be absolute");
		return -1;
	} else if (access(spec->path, R_OK) < 0) {
		snprintf(err, errlen, "%s: %s", spec->path, strerror(errno));
		return -1;
	}
	if (spec->permissions != NULL && !json_object_is_type(spec->permissions, json_type_array)) {
		snprintf(err, errlen, "permissions must be an array");
		return -1;
	}
	runner_run(&sup->set, spec, done, arg);
	return 0;
}

int supervisor_stop(struct supervisor *sup, const char *name, enum bus_drop why)
{
	struct runner *p = runner_find(&sup->set, name);
	if (p == NULL)
		return -1;
	runner_stop(p, why);
	return 0;
}

int supervisor_configure(struct supervisor *sup, const char *name, json_object *config,
			 supervisor_done_fn done, void *arg)
{
	struct runner *p = runner_find(&sup->set, name);

	if (p == NULL || config == NULL || !json_object_is_type(config, json_type_object))
		return -1;
	runner_configure(p, config, done, arg);
	return 0;
}

int supervisor_set_secrets(struct supervisor *sup, const char *name, json_object *secrets)
{
	struct runner *p = runner_find(&sup->set, name);

	if (p == NULL)
		return -1;
	runner_set_secrets(p, secrets);
	return 0;
}

bool supervisor_has(struct supervisor *sup, const char *name)
{
	return runner_find(&sup->set, name) != NULL;
}

void supervisor_reap(struct supervisor *sup)
{
	struct runner *p, *next;

	/* By pid: a child that is not a host (the built-in listing) is its owner's. */
	for (p = runner_first(&sup->set); p != NULL; p = next) {
		next = runner_next(p);
		runner_reap(p);
	}
}

/* ---- the typed stats (their JSON view is supervisor_status.c) ---- */

int supervisor_stats(struct supervisor *sup, const char *name, struct supervisor_stats *out)
{
	struct runner *p = runner_find(&sup->set, name);
	if (p == NULL)
		return -1;
	runner_stats(p, out);
	return 0;
}

void supervisor_foreach(struct supervisor *sup,
			void (*fn)(const struct supervisor_stats *st, void *arg), void *arg)
{
	struct supervisor_stats st;

	for (struct runner *p = runner_first(&sup->set); p != NULL; p = runner_next(p)) {
		runner_stats(p, &st);
		fn(&st, arg);
	}
}

void supervisor_watch(struct supervisor *sup, supervisor_watch_fn fn, void *arg)
{
	for (size_t i = 0; i < SUPERVISOR_WATCH_MAX; i++) {
		if (sup->set.watch[i].fn == NULL) {
			sup->set.watch[i].fn = fn;
			sup->set.watch[i].arg = arg;
			return;
		}
	}
	fatal("supervisor_watch: more than %d watchers", SUPERVISOR_WATCH_MAX);
}

void supervisor_unwatch(struct supervisor *sup, supervisor_watch_fn fn, void *arg)
{
	for (size_t i = 0; i < SUPERVISOR_WATCH_MAX; i++)
		if (sup->set.watch[i].fn == fn && sup->set.watch[i].arg == arg)
			sup->set.watch[i].fn = NULL;
}

json_object *supervisor_logs(struct supervisor *sup, const char *name, size_t max)
{
	struct runner *p = runner_find(&sup->set, name);

	return p != NULL ? runner_logs(p, max) : NULL;
}

int supervisor_serving_peer(struct supervisor *sup, const char *name, struct peer **peer,
			    enum supervisor_state *state)
{
	struct runner *p = runner_find(&sup->set, name);

	*peer = NULL;
	if (p == NULL)
		return -1;
	*peer = runner_serving_peer(p, state);
	return 0;
}

/* ---- shutdown: drain, then stop every host ---- */

static void shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sup = arg;
	bool draining = bus_busy(sup->set.bus) && clock_mono_ms() < sup->shutdown_deadline_ms;
	bool hosts = false;
	struct timeval tv = clock_tv(SHUTDOWN_POLL_MS);

	if (!draining) {
		for (struct runner *p = runner_first(&sup->set); p != NULL; p = runner_next(p))
			hosts = runner_shutdown_step(p) || hosts;
		if (!hosts) {
			if (sup->shutdown_done)
				sup->shutdown_done(sup->shutdown_arg);
			return;
		}
	}
	evtimer_add(sup->shutdown_timer, &tv);
}

void supervisor_shutdown(struct supervisor *sup, int timeout_ms, void (*done)(void *arg), void *arg)
{
	if (sup->set.shutting_down)
		return;
	sup->set.shutting_down = true;
	sup->shutdown_done = done;
	sup->shutdown_arg = arg;
	sup->shutdown_deadline_ms = clock_mono_ms() + timeout_ms;
	sup->shutdown_timer = evtimer_new(sup->set.base, shutdown_tick, sup);
	shutdown_tick(-1, 0, sup);
}

void supervisor_free(struct supervisor *sup)
{
	if (sup == NULL)
		return;
	sup->set.freeing = true;
	while (runner_first(&sup->set) != NULL)
		runner_destroy(runner_first(&sup->set));
	if (sup->shutdown_timer)
		event_free(sup->shutdown_timer);
	startq_free(sup->set.startq);
	free((char *)sup->set.o.host_path);
	free(sup);
}
